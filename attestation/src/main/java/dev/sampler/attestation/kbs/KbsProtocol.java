package dev.sampler.attestation.kbs;

import java.util.List;

/**
 * Constants of Trustee's KBS RCAR protocol (PROTOCOLS.md B1-B3), shared by the client here and the
 * reference broker in keybroker/.
 */
public final class KbsProtocol {
  private KbsProtocol() {}

  /** The only Request version a Trustee broker accepts (B2; the doc's 0.1.1 is stale). */
  public static final String VERSION = "0.4.0";
  /** The API prefix below the broker's base address. */
  public static final String PATH_PREFIX = "/kbs/v0";
  /** {@code POST {base}/auth}: Request -> Challenge. */
  public static final String AUTH_PATH = "/auth";
  /** {@code POST {base}/attest}: Attestation -> {@code {"token":…}}. */
  public static final String ATTEST_PATH = "/attest";
  /** {@code GET {base}/resource/<repo>/<type>/<tag>}: -> flattened JWE JSON. */
  public static final String RESOURCE_PATH = "/resource/";
  /** The session cookie set by /auth and required by /attest and /resource. */
  public static final String SESSION_COOKIE = "kbs-session-id";
  /** Prefix of an error body's {@code type}; the rest is the broker's error Variant. */
  public static final String ERROR_TYPE_PREFIX = "https://github.com/confidential-containers/kbs/errors/";
  /** The JSON media type of every request and response body. */
  public static final String JSON_MEDIA_TYPE = "application/json";

  /** Request/Challenge member: {@code extra-params}. */
  public static final String EXTRA_PARAMS = "extra-params";
  /** Request extra-params member listing the client's hash algorithms. */
  public static final String SUPPORTED_HASH_ALGORITHMS = "supported-hash-algorithms";
  /** Challenge extra-params member selecting the binding hash (only for {@code se} upstream). */
  public static final String SELECTED_HASH_ALGORITHM = "selected-hash-algorithm";
  /** Attestation member: {@code init-data} (null or {@code {"format":"toml","body":…}}). */
  public static final String INIT_DATA = "init-data";
  /** Attestation member: {@code runtime-data}. */
  public static final String RUNTIME_DATA = "runtime-data";
  /** Attestation member: {@code tee-evidence}. */
  public static final String TEE_EVIDENCE = "tee-evidence";
  /** runtime-data member: {@code nonce}. */
  public static final String NONCE = "nonce";
  /** runtime-data member: {@code tee-pubkey}. */
  public static final String TEE_PUBKEY = "tee-pubkey";
  /** tee-evidence member (snake_case): {@code primary_evidence}. */
  public static final String PRIMARY_EVIDENCE = "primary_evidence";
  /** tee-evidence member (snake_case): {@code additional_evidence}, a JSON string. */
  public static final String ADDITIONAL_EVIDENCE = "additional_evidence";
  /** The binding input's member for the additional evidence (kebab-case, B4). */
  public static final String BINDING_ADDITIONAL_EVIDENCE = "additional-evidence";

  /** The hash algorithms this implementation can bind with (sent in the Request). */
  public static final List<String> HASH_ALGORITHMS = List.of("sha256", "sha384", "sha512");

  /** Every {@code tee} value Trustee knows (B2). */
  public static final List<String> TEES =
      List.of("az-snp-vtpm", "az-tdx-vtpm", "nvidia", "sgx", "snp", "tdx", "cca", "csv", "se",
          "hygondcu", "dpu", "tpm", "sample", "sampledevice");

  /** Error Variant: the attestation or its session failed (401). */
  public static final String ERROR_ATTESTATION = "AttestationError";
  /** Error Variant: no token or attested session for a resource request (401). */
  public static final String ERROR_TOKEN_NOT_FOUND = "TokenNotFound";
  /** Error Variant: the resource policy denied the request (401). */
  public static final String ERROR_POLICY_DENY = "PolicyDeny";
  /** Error Variant: the resource plugin failed, e.g. an unknown resource (401). */
  public static final String ERROR_PLUGIN_INTERNAL = "PluginInternalError";
  /** Error Variant: the request path is invalid (404). */
  public static final String ERROR_INVALID_REQUEST_PATH = "InvalidRequestPath";
  /** Error Variant: no such plugin (404). */
  public static final String ERROR_PLUGIN_NOT_FOUND = "PluginNotFound";
  /** Error Variant: a request body did not deserialize (401). */
  public static final String ERROR_SERDE = "SerdeError";
  /** Error Variant: JWE encryption of the resource failed (401). */
  public static final String ERROR_JWE = "JweError";
}
