package io.streamrlhf.rewardstream.scoring.verify;

import io.streamrlhf.rewardstream.scoring.ScoringInput;
import io.streamrlhf.rewardstream.scoring.rules.RuleSource;
import io.streamrlhf.schemas.verify.VerifierSpec;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code verify:} reward source: {@code pass} (default 1) when the response passes its prompt's verifier, else
 * {@code fail} (default 0). A prompt that names its own verifier ({@code Prompt.verifier}) is checked with it;
 * otherwise with this source's spec ({@code verify:prompt} has none, so a prompt without one is unscorable). An
 * input the verifier cannot judge — no reference answer, a reference that is not a number or a schema — scores NaN,
 * which the ensemble dead-letters or scores without this source, as configured.
 */
public final class VerifierSource extends RuleSource {
    private static final Logger log = LoggerFactory.getLogger(VerifierSource.class);
    /** Most distinct per-prompt verifier specs kept parsed. */
    private static final int SPEC_CACHE = 256;

    private final Verifier fallback;
    private final double pass;
    private final double fail;
    private final Map<String, Verifier> perPrompt = new ConcurrentHashMap<>();

    /**
     * @param fallback the verifier for prompts that name none, or {@code null} to leave those unscorable
     * @param pass     the score of a pass
     * @param fail     the score of a failure
     */
    public VerifierSource(String name, VerifierSpec fallback, double pass, double fail) {
        super(name, 1);
        this.fallback = fallback == null ? null : new Verifier(fallback);
        this.pass = pass;
        this.fail = fail;
    }

    @Override
    protected double scoreOne(ScoringInput input) {
        Verifier verifier = verifierFor(input);
        if (verifier == null) {
            log.debug("{}: {} names no verifier and this source has none", name(), input.id());
            return Double.NaN;
        }
        try {
            Verifier.Verdict verdict = verifier.check(input.responseText(), input.references());
            return verdict.passed() ? pass : fail;
        } catch (IllegalArgumentException e) {
            log.warn("{}: cannot verify {}: {}", name(), input.id(), e.getMessage());
            return Double.NaN;
        }
    }

    private Verifier verifierFor(ScoringInput input) {
        if (input.verifier() == null || input.verifier().isBlank()) {
            return fallback;
        }
        Verifier cached = perPrompt.get(input.verifier());
        if (cached != null) {
            return cached;
        }
        Verifier parsed;
        try {
            parsed = new Verifier(VerifierSpec.parse(input.verifier()));
        } catch (IllegalArgumentException e) {
            log.warn("{}: {} carries a bad verifier: {}", name(), input.id(), e.getMessage());
            return null;
        }
        if (perPrompt.size() >= SPEC_CACHE) {
            perPrompt.clear();
        }
        perPrompt.put(input.verifier(), parsed);
        return parsed;
    }
}
