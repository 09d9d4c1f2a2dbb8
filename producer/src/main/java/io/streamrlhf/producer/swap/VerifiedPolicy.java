package io.streamrlhf.producer.swap;

import io.streamrlhf.models.checkpoint.Checkpoint;
import java.time.Instant;
import java.util.Objects;

/**
 * A policy version whose checkpoint was fetched and verified, ready to load.
 *
 * @param name        the policy's name (key of its {@code policy.versions} record)
 * @param version     the version number generations will carry as {@code policy_version}
 * @param checkpoint  the verified weights and shape
 * @param publishedAt when the version was published (the record's timestamp)
 * @param verifiedAt  when this process finished fetching and verifying it
 */
public record VerifiedPolicy(String name, long version, Checkpoint checkpoint, Instant publishedAt,
                             Instant verifiedAt) {

    /** Checks the required parts. */
    public VerifiedPolicy {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(checkpoint, "checkpoint");
        Objects.requireNonNull(publishedAt, "publishedAt");
        Objects.requireNonNull(verifiedAt, "verifiedAt");
    }
}
