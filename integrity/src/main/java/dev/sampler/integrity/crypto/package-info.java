/**
 * The two primitives sealed weights need, AES-256-GCM and SHA-256, behind one small interface
 * ({@link dev.sampler.integrity.crypto.CryptoProvider}) with two implementations: the system
 * OpenSSL {@code libcrypto.so.3} through the Foreign Function &amp; Memory API (about 20-60x faster
 * than the JDK's AES-GCM on the machines this runs on) and the JDK's {@code javax.crypto} /
 * {@code MessageDigest} as the fallback. {@link dev.sampler.integrity.crypto.Crypto#auto()} picks
 * one once per process and records which and why in {@link
 * dev.sampler.integrity.crypto.Crypto#selection()}; nothing here prints.
 *
 * <p>Both work on {@link java.lang.foreign.MemorySegment}s, so off-heap buffers (mapped or
 * allocated) go to OpenSSL without a copy.
 */
package dev.sampler.integrity.crypto;
