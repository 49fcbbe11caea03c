/** Deterministic quality measures of generated images (the demo model's class checker). */
package dev.sampler.engine.quality;
