package dev.sampler.scheduler;

import java.util.regex.Pattern;

/**
 * An authenticated tenant: the server derives it from a verified client certificate or a
 * verified gateway token, never from an unauthenticated header.
 *
 * @param id 1..128 characters from {@code [A-Za-z0-9._:@/-]}
 */
public record Tenant(String id) {
  private static final Pattern ID = Pattern.compile("[A-Za-z0-9._:@/-]{1,128}");

  /** Validates the id (the message never echoes an invalid id: it may be attacker-controlled). */
  public Tenant {
    if (id == null || !ID.matcher(id).matches()) {
      throw new IllegalArgumentException("tenant id must be 1..128 characters from [A-Za-z0-9._:@/-]");
    }
  }

  @Override
  public String toString() {
    return id;
  }
}
