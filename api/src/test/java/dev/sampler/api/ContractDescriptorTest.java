package dev.sampler.api;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.Descriptors.FileDescriptor;
import com.google.protobuf.Descriptors.MethodDescriptor;
import com.google.protobuf.Descriptors.ServiceDescriptor;
import dev.sampler.api.v1.SamplerProto;
import dev.sampler.api.v1.SamplerServiceGrpc;
import inference.GRPCInferenceServiceGrpc;
import inference.GrpcPredictV2;
import io.grpc.MethodDescriptor.MethodType;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The generated descriptors expose exactly the services and methods of the contract: a method
 * added, removed, renamed or turned streaming by an edit of a .proto file fails here.
 */
class ContractDescriptorTest {
  /**
   * SHA-256 of docs/predict-api/v2/grpc_predict_v2.proto in kserve/kserve at commit
   * aaac4e294dae2c7b1aa1886447793f3aa1c30912 (the file last changed in 3dc5bfb4); see
   * src/main/protobuf/kserve/README.md.
   */
  private static final String KSERVE_PROTO_SHA256 = "408092a3cfb737c1be17e47211fd6b072211839f61d133af6512e64d4efcca04";

  @Test
  void samplerProto_services_samplerServiceWithThreeMethodsAndAdminServiceWithReverify() {
    FileDescriptor file = SamplerProto.getDescriptor();
    assertEquals("sampler.v1", file.getPackage());
    assertEquals(List.of("SamplerService", "AdminService"),
        file.getServices().stream().map(ServiceDescriptor::getName).toList());
    assertEquals(Map.of("Reverify", "unary ReverifyRequest -> ReverifyResponse"),
        shapes(file.findServiceByName("AdminService")));
    Map<String, String> expected = new LinkedHashMap<>();
    expected.put("Generate", "server-streaming GenerateRequest -> GenerateEvent");
    expected.put("ListModels", "unary ListModelsRequest -> ListModelsResponse");
    expected.put("GetModel", "unary GetModelRequest -> ModelInfo");
    assertEquals(expected, shapes(file.findServiceByName("SamplerService")));
  }

  @Test
  void samplerServiceGrpc_methodTypes_generateServerStreamingOthersUnary() {
    Map<String, MethodType> types = new LinkedHashMap<>();
    SamplerServiceGrpc.getServiceDescriptor().getMethods()
        .forEach(m -> types.put(m.getFullMethodName(), m.getType()));
    assertEquals(Map.of(
        "sampler.v1.SamplerService/Generate", MethodType.SERVER_STREAMING,
        "sampler.v1.SamplerService/ListModels", MethodType.UNARY,
        "sampler.v1.SamplerService/GetModel", MethodType.UNARY), types);
  }

  @Test
  void kserveProto_services_exactlyTheSixUnaryOpenInferenceCalls() {
    FileDescriptor file = GrpcPredictV2.getDescriptor();
    assertEquals("inference", file.getPackage());
    assertEquals(List.of("GRPCInferenceService"),
        file.getServices().stream().map(ServiceDescriptor::getName).toList());
    Map<String, String> expected = new LinkedHashMap<>();
    expected.put("ServerLive", "unary ServerLiveRequest -> ServerLiveResponse");
    expected.put("ServerReady", "unary ServerReadyRequest -> ServerReadyResponse");
    expected.put("ModelReady", "unary ModelReadyRequest -> ModelReadyResponse");
    expected.put("ServerMetadata", "unary ServerMetadataRequest -> ServerMetadataResponse");
    expected.put("ModelMetadata", "unary ModelMetadataRequest -> ModelMetadataResponse");
    expected.put("ModelInfer", "unary ModelInferRequest -> ModelInferResponse");
    assertEquals(expected, shapes(file.findServiceByName("GRPCInferenceService")));
    // Wire names are what KServe clients call; they come from the proto package, not Java's.
    assertEquals("inference.GRPCInferenceService/ModelInfer",
        GRPCInferenceServiceGrpc.getModelInferMethod().getFullMethodName());
  }

  @Test
  void vendoredKserveProto_bytes_matchUpstreamDigest() throws IOException, NoSuchAlgorithmException {
    // Surefire runs in the module directory. The file is an external specification: any edit,
    // even whitespace, is a fork of the protocol and must fail here.
    byte[] file = Files.readAllBytes(Path.of("src/main/protobuf/kserve/grpc_predict_v2.proto"));
    assertEquals(KSERVE_PROTO_SHA256, HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(file)));
  }

  @Test
  void grpcServices_healthAndReflection_onTheClasspathWithStandardNames() {
    // The server registers these from grpc-services instead of vendoring health.proto.
    assertEquals("grpc.health.v1.Health", HealthGrpc.SERVICE_NAME);
    assertEquals("grpc.reflection.v1.ServerReflection", ServerReflectionGrpc.SERVICE_NAME);
  }

  private static Map<String, String> shapes(ServiceDescriptor service) {
    Map<String, String> out = new LinkedHashMap<>();
    for (MethodDescriptor m : service.getMethods()) {
      String kind = m.isClientStreaming() ? (m.isServerStreaming() ? "bidi" : "client-streaming")
          : (m.isServerStreaming() ? "server-streaming" : "unary");
      out.put(m.getName(), kind + " " + m.getInputType().getName() + " -> " + m.getOutputType().getName());
    }
    return out;
  }
}
