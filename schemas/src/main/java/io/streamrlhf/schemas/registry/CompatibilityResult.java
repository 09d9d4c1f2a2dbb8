package io.streamrlhf.schemas.registry;

import java.util.List;

/**
 * The registry's answer to "may this schema be registered under that subject?".
 *
 * @param compatible whether the schema passes the subject's compatibility rule
 * @param messages   human-readable reasons when it does not (may be empty if the registry gives none)
 */
public record CompatibilityResult(boolean compatible, List<String> messages) {
    public CompatibilityResult {
        messages = List.copyOf(messages);
    }

    static CompatibilityResult ok() {
        return new CompatibilityResult(true, List.of());
    }
}
