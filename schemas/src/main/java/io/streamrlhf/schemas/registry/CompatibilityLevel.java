package io.streamrlhf.schemas.registry;

/**
 * The compatibility rules a registry can enforce for a subject, with the names the Confluent REST API uses.
 * StreamRLHF's contracts evolve under {@link #BACKWARD}: a reader with the new schema reads data written with
 * the previous one.
 */
public enum CompatibilityLevel {
    NONE,
    BACKWARD,
    BACKWARD_TRANSITIVE,
    FORWARD,
    FORWARD_TRANSITIVE,
    FULL,
    FULL_TRANSITIVE;

    /** Whether a new schema must be able to read data written with the earlier ones. */
    public boolean checksBackward() {
        return this == BACKWARD || this == BACKWARD_TRANSITIVE || this == FULL || this == FULL_TRANSITIVE;
    }

    /** Whether the earlier schemas must be able to read data written with a new one. */
    public boolean checksForward() {
        return this == FORWARD || this == FORWARD_TRANSITIVE || this == FULL || this == FULL_TRANSITIVE;
    }

    /** Whether the check runs against every earlier version rather than only the latest. */
    public boolean transitive() {
        return name().endsWith("_TRANSITIVE");
    }
}
