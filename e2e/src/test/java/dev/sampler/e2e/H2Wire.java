package dev.sampler.e2e;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * A deliberately small HTTP/2 client for abuse tests: prior-knowledge h2c over a plaintext
 * loopback socket (RFC 9113 section 3.3), writing frames by hand so a test can do what no
 * well-behaved client library does (reset thousands of streams, stall the preface). Header blocks
 * use only HPACK's "literal header field without indexing" form (RFC 7541 section 6.2.2) with no
 * Huffman coding, so no HPACK state is kept on either side. Received frames are
 * parsed as headers and payloads only; their header blocks are not decoded.
 */
final class H2Wire implements AutoCloseable {
  static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

  static final int DATA = 0x0;
  static final int HEADERS = 0x1;
  static final int RST_STREAM = 0x3;
  static final int SETTINGS = 0x4;
  static final int PING = 0x6;
  static final int GOAWAY = 0x7;
  static final int WINDOW_UPDATE = 0x8;

  static final int FLAG_END_STREAM = 0x1;
  static final int FLAG_ACK = 0x1;
  static final int FLAG_END_HEADERS = 0x4;

  /** RST_STREAM / GOAWAY error codes used here (RFC 9113 section 7). */
  static final int NO_ERROR = 0x0;
  static final int CANCEL = 0x8;
  static final int ENHANCE_YOUR_CALM = 0xb;

  /** One received frame. */
  record Frame(int type, int flags, int streamId, byte[] payload) {
    /** For GOAWAY: the error code (RFC 9113 section 6.8). */
    int goAwayError() {
      return ((payload[4] & 0xff) << 24) | ((payload[5] & 0xff) << 16) | ((payload[6] & 0xff) << 8) | (payload[7] & 0xff);
    }

    /** For GOAWAY: the last stream id the server processed. */
    int goAwayLastStream() {
      return (((payload[0] & 0x7f) << 24) | ((payload[1] & 0xff) << 16) | ((payload[2] & 0xff) << 8) | (payload[3] & 0xff));
    }

    /** For GOAWAY: the debug text after the fixed part (may be empty). */
    String goAwayDebug() {
      return new String(payload, 8, payload.length - 8, StandardCharsets.UTF_8);
    }
  }

  private final Socket socket;
  private final OutputStream out;
  private final DataInputStream in;

  private H2Wire(Socket socket) throws IOException {
    this.socket = socket;
    this.out = socket.getOutputStream();
    this.in = new DataInputStream(socket.getInputStream());
  }

  /** Opens a TCP connection (nothing sent yet); reads time out after {@code readTimeoutMillis}. */
  static H2Wire connect(String host, int port, int readTimeoutMillis) throws IOException {
    Socket s = new Socket(host, port);
    s.setTcpNoDelay(true);
    s.setSoTimeout(readTimeoutMillis);
    return new H2Wire(s);
  }

  /** The raw socket streams, for tests that write bytes that are not frames (a stalled preface). */
  OutputStream rawOut() {
    return out;
  }

  InputStream rawIn() {
    return in;
  }

  /** The connection preface and an empty SETTINGS frame, as a client starts a connection. */
  void startConnection() throws IOException {
    out.write(PREFACE);
    writeFrame(SETTINGS, 0, 0, new byte[0]);
    out.flush();
  }

  /** Writes one frame (not flushed). */
  void writeFrame(int type, int flags, int streamId, byte[] payload) throws IOException {
    int len = payload.length;
    byte[] h = {
      (byte) (len >>> 16), (byte) (len >>> 8), (byte) len, (byte) type, (byte) flags,
      (byte) ((streamId >>> 24) & 0x7f), (byte) (streamId >>> 16), (byte) (streamId >>> 8), (byte) streamId
    };
    out.write(h);
    out.write(payload);
  }

  /** A HEADERS frame carrying {@code headers} as one complete block (END_HEADERS set). */
  void headers(int streamId, Map<String, String> headers, boolean endStream) throws IOException {
    writeFrame(HEADERS, FLAG_END_HEADERS | (endStream ? FLAG_END_STREAM : 0), streamId, hpackLiterals(headers));
  }

  /** RST_STREAM with {@code error}. */
  void rstStream(int streamId, int error) throws IOException {
    writeFrame(RST_STREAM, 0, streamId, int32(error));
  }

  /** A DATA frame. */
  void data(int streamId, byte[] payload, boolean endStream) throws IOException {
    writeFrame(DATA, endStream ? FLAG_END_STREAM : 0, streamId, payload);
  }

  void flush() throws IOException {
    out.flush();
  }

  /**
   * Reads the next frame, answering SETTINGS and PING as a client must (so the server never
   * blames the test for protocol errors it did not make) and returning those too.
   *
   * @throws EOFException the server closed the connection
   * @throws SocketTimeoutException nothing arrived within the read timeout
   */
  Frame read() throws IOException {
    byte[] h = new byte[9];
    in.readFully(h);
    int len = ((h[0] & 0xff) << 16) | ((h[1] & 0xff) << 8) | (h[2] & 0xff);
    int type = h[3] & 0xff;
    int flags = h[4] & 0xff;
    int stream = ((h[5] & 0x7f) << 24) | ((h[6] & 0xff) << 16) | ((h[7] & 0xff) << 8) | (h[8] & 0xff);
    if (len > 1 << 24) {
      throw new IOException("frame length " + len + " is beyond any SETTINGS_MAX_FRAME_SIZE");
    }
    byte[] payload = new byte[len];
    in.readFully(payload);
    Frame f = new Frame(type, flags, stream, payload);
    synchronized (out) {
      if (type == SETTINGS && (flags & FLAG_ACK) == 0) {
        writeFrame(SETTINGS, FLAG_ACK, 0, new byte[0]);
        out.flush();
      } else if (type == PING && (flags & FLAG_ACK) == 0) {
        writeFrame(PING, FLAG_ACK, 0, payload);
        out.flush();
      }
    }
    return f;
  }

  /** The lock writers share with {@link #read()}'s automatic replies. */
  Object writeLock() {
    return out;
  }

  /** The request headers of a gRPC call to {@code path} (e.g. /sampler.v1.SamplerService/ListModels). */
  static Map<String, String> grpcRequest(String authority, String path) {
    Map<String, String> m = new java.util.LinkedHashMap<>();
    m.put(":method", "POST");
    m.put(":scheme", "http");
    m.put(":authority", authority);
    m.put(":path", path);
    m.put("content-type", "application/grpc");
    m.put("te", "trailers");
    return m;
  }

  /** A gRPC length-prefixed message (uncompressed) around {@code message}. */
  static byte[] grpcMessage(byte[] message) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    b.write(0);
    b.writeBytes(int32(message.length));
    b.writeBytes(message);
    return b.toByteArray();
  }

  /** HPACK static-table indices (RFC 7541 appendix A) of the pseudo-header names. */
  private static final Map<String, Integer> PSEUDO = Map.of(":authority", 1, ":method", 2, ":path", 4, ":scheme", 6);

  /**
   * HPACK, "literal header field without indexing" only, no Huffman (RFC 7541 6.2.2, 5.2): a
   * pseudo-header names its static-table entry (Helidon refuses pseudo-header names sent as
   * literals, which RFC 7541 allows), every other header sends its name as a literal.
   */
  static byte[] hpackLiterals(Map<String, String> headers) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    for (Map.Entry<String, String> e : headers.entrySet()) {
      Integer index = PSEUDO.get(e.getKey());
      if (index != null) {
        integer(b, index, 4, 0x00);
      } else {
        b.write(0x00);
        string(b, e.getKey());
      }
      string(b, e.getValue());
    }
    return b.toByteArray();
  }

  private static void string(ByteArrayOutputStream b, String s) {
    byte[] raw = s.getBytes(StandardCharsets.US_ASCII);
    integer(b, raw.length, 7, 0x00); // H bit 0: no Huffman
    b.writeBytes(raw);
  }

  /** HPACK integer with an N-bit prefix (RFC 7541 5.1). */
  static void integer(ByteArrayOutputStream b, int value, int prefixBits, int firstByteHighBits) {
    int max = (1 << prefixBits) - 1;
    if (value < max) {
      b.write(firstByteHighBits | value);
      return;
    }
    b.write(firstByteHighBits | max);
    value -= max;
    while (value >= 128) {
      b.write((value & 0x7f) | 0x80);
      value >>>= 7;
    }
    b.write(value);
  }

  static byte[] int32(int v) {
    return new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
