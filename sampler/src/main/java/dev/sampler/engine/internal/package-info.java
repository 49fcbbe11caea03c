/**
 * Implementation of the engine's backends. Not API: nothing outside {@code sampler/} may import
 * {@code dev.sampler.engine.internal} or its subpackages; select backends through {@link
 * dev.sampler.engine.backend.Backends}.
 */
package dev.sampler.engine.internal;
