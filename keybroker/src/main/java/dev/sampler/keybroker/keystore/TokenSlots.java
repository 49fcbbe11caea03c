package dev.sampler.keybroker.keystore;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Lists the initialised tokens of a PKCS#11 library (slot id and label) through the C API, called
 * with the FFM API. SunPKCS11 selects a token only by slot id or slot list index, and SoftHSM2
 * gives each new token a random slot id, so a token must be found by its label first.
 *
 * <p>Assumes an LP64 platform (Linux, macOS): {@code CK_ULONG} is 64 bits. The library is
 * initialised for the listing and finalised again, unless something in this process had already
 * initialised it (then it is left as it was).
 */
public final class TokenSlots {
  /** {@code CKR_CRYPTOKI_ALREADY_INITIALIZED}. */
  private static final long CKR_ALREADY_INITIALIZED = 0x191;
  /** {@code CKF_TOKEN_INITIALIZED} in {@code CK_TOKEN_INFO.flags}. */
  private static final long CKF_TOKEN_INITIALIZED = 0x400;
  /** Offset of {@code flags} in {@code CK_TOKEN_INFO}: label 32 + manufacturer 32 + model 16 + serial 16. */
  private static final long TOKEN_INFO_FLAGS = 96;
  /** Size of {@code CK_TOKEN_INFO} on LP64 (204, padded), with room to spare. */
  private static final long TOKEN_INFO_SIZE = 512;
  /** Bound on slots listed; real libraries have a handful. */
  private static final long MAX_SLOTS = 4096;

  private TokenSlots() {}

  /**
   * One initialised token.
   *
   * @param slotId the PKCS#11 slot id (what SunPKCS11's {@code slot} setting takes)
   * @param label the token label with its padding blanks removed
   */
  public record Token(long slotId, String label) {}

  /**
   * The initialised tokens of {@code library}, in the library's slot order.
   *
   * @throws StoreException naming the step: the library is missing or cannot be loaded, or a
   *     PKCS#11 call returned an error
   */
  @SuppressWarnings("restricted") // FFM downcalls into the PKCS#11 library: the point of this class
  public static List<Token> list(Path library) throws StoreException {
    if (!Files.isRegularFile(library)) {
      throw new StoreException("hsm: PKCS#11 library " + library + " not found");
    }
    Linker linker = Linker.nativeLinker();
    try (Arena arena = Arena.ofConfined()) {
      SymbolLookup lookup;
      try {
        lookup = SymbolLookup.libraryLookup(library, arena);
      } catch (IllegalArgumentException e) {
        throw new StoreException("hsm: cannot load PKCS#11 library " + library + ": " + e.getMessage(), e);
      }
      MemorySegment getFunctionList = lookup.find("C_GetFunctionList").orElseThrow(
          () -> new StoreException("hsm: " + library + " is not a PKCS#11 library (no C_GetFunctionList)"));
      MethodHandle gfl = linker.downcallHandle(getFunctionList,
          FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.ADDRESS));
      MemorySegment pp = arena.allocate(ValueLayout.ADDRESS);
      check(library, "C_GetFunctionList", (long) gfl.invokeExact(pp));
      // CK_FUNCTION_LIST: CK_VERSION (2 bytes, padded to 8), then one pointer per function in the
      // standard's order: C_Initialize, C_Finalize, C_GetInfo, C_GetFunctionList, C_GetSlotList,
      // C_GetSlotInfo, C_GetTokenInfo, ...
      MemorySegment fl = pp.get(ValueLayout.ADDRESS, 0).reinterpret(8 * 8);
      MethodHandle initialize = linker.downcallHandle(fl.get(ValueLayout.ADDRESS, 8),
          FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.ADDRESS));
      MethodHandle finalize = linker.downcallHandle(fl.get(ValueLayout.ADDRESS, 16),
          FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.ADDRESS));
      MethodHandle getSlotList = linker.downcallHandle(fl.get(ValueLayout.ADDRESS, 40),
          FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_BYTE, ValueLayout.ADDRESS, ValueLayout.ADDRESS));
      MethodHandle getTokenInfo = linker.downcallHandle(fl.get(ValueLayout.ADDRESS, 56),
          FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.ADDRESS));
      long rv = (long) initialize.invokeExact(MemorySegment.NULL);
      boolean weInitialised = rv == 0;
      if (!weInitialised && rv != CKR_ALREADY_INITIALIZED) {
        check(library, "C_Initialize", rv);
      }
      try {
        MemorySegment count = arena.allocate(ValueLayout.JAVA_LONG);
        check(library, "C_GetSlotList", (long) getSlotList.invokeExact((byte) 1, MemorySegment.NULL, count));
        long n = count.get(ValueLayout.JAVA_LONG, 0);
        if (n < 0 || n > MAX_SLOTS) {
          throw new StoreException("hsm: " + library + " reports " + n + " slots (more than " + MAX_SLOTS + ")");
        }
        List<Token> tokens = new ArrayList<>();
        if (n == 0) {
          return tokens;
        }
        MemorySegment ids = arena.allocate(ValueLayout.JAVA_LONG, n);
        check(library, "C_GetSlotList", (long) getSlotList.invokeExact((byte) 1, ids, count));
        n = Math.min(n, count.get(ValueLayout.JAVA_LONG, 0));
        MemorySegment info = arena.allocate(TOKEN_INFO_SIZE, 8);
        for (long i = 0; i < n; i++) {
          long slot = ids.getAtIndex(ValueLayout.JAVA_LONG, i);
          info.fill((byte) 0);
          long r = (long) getTokenInfo.invokeExact(slot, info);
          if (r != 0) {
            continue; // a token removed meanwhile; it cannot be the one asked for
          }
          if ((info.get(ValueLayout.JAVA_LONG, TOKEN_INFO_FLAGS) & CKF_TOKEN_INITIALIZED) == 0) {
            continue;
          }
          String label = new String(info.asSlice(0, 32).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8)
              .replaceAll("[ \\x00]+$", "");
          tokens.add(new Token(slot, label));
        }
        return tokens;
      } finally {
        if (weInitialised) {
          long ignored = (long) finalize.invokeExact(MemorySegment.NULL);
        }
      }
    } catch (StoreException e) {
      throw e;
    } catch (Throwable t) {
      throw new StoreException("hsm: listing the tokens of " + library + " failed: " + t, t);
    }
  }

  /**
   * The token labelled {@code label}.
   *
   * @throws StoreException "hsm: no token labelled 'x' in LIB (tokens: ...)" when there is none,
   *     or when several share the label
   */
  public static Token byLabel(Path library, String label) throws StoreException {
    List<Token> tokens = list(library);
    List<Token> matches = tokens.stream().filter(t -> t.label().equals(label)).toList();
    if (matches.isEmpty()) {
      throw new StoreException("hsm: no token labelled '" + label + "' in " + library + " (initialised tokens: "
          + (tokens.isEmpty() ? "none" : String.join(", ", tokens.stream().map(t -> "'" + t.label() + "'").toList()))
          + ")");
    }
    if (matches.size() > 1) {
      throw new StoreException("hsm: " + matches.size() + " tokens are labelled '" + label + "' in " + library
          + "; give --hsm-slot instead");
    }
    return matches.get(0);
  }

  private static void check(Path library, String function, long rv) throws StoreException {
    if (rv != 0) {
      throw new StoreException("hsm: " + function + " of " + library + " returned " + ckr(rv));
    }
  }

  /** The name of a {@code CK_RV} this code may meet, else its hex value. */
  static String ckr(long rv) {
    return switch ((int) rv) {
      case 0x5 -> "CKR_GENERAL_ERROR";
      case 0x6 -> "CKR_FUNCTION_FAILED";
      case 0x7 -> "CKR_ARGUMENTS_BAD";
      case 0x30 -> "CKR_DEVICE_ERROR";
      case 0x32 -> "CKR_DEVICE_REMOVED";
      case 0xE0 -> "CKR_TOKEN_NOT_PRESENT";
      case 0x190 -> "CKR_CRYPTOKI_NOT_INITIALIZED";
      default -> "CK_RV 0x" + Long.toHexString(rv);
    };
  }
}
