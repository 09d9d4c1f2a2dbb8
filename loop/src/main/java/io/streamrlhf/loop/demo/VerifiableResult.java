package io.streamrlhf.loop.demo;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.util.Locale;

/**
 * What one {@code rlhf demo --task verifiable} run measured, on the same held-out prompts before and after.
 *
 * @param seed          the run's seed
 * @param evalPrompts   held-out prompts (8 samples each)
 * @param sftPass       the SFT policy's pass rate (share of its samples the verifier passes)
 * @param bon8Pass      best-of-8 of the SFT policy by the verifier's own oracle: share of prompts with a passing
 *                      sample among 8
 * @param finalPass     the final policy's pass rate
 * @param finalBon8Pass best-of-8 of the final policy by the verifier
 * @param klRef         the final update's KL to the SFT reference (nats per token; 0 when nothing was trained)
 * @param policyVersion the final policy's version (0: the SFT policy, nothing was published)
 * @param updates       learner updates made in the loop
 * @param generations   generations the worker committed
 * @param scored        generations the reward stream scored
 * @param loopSeconds   the loop's wall time
 * @param sftSeconds    time spent on SFT in this run (0 when cached)
 * @param sftCached     whether the SFT policy came from the cache
 * @param wallSeconds   the whole run's wall time
 */
public record VerifiableResult(long seed, int evalPrompts, double sftPass, double bon8Pass, double finalPass,
                               double finalBon8Pass, double klRef, long policyVersion, long updates, long generations,
                               long scored,
                               double loopSeconds, double sftSeconds, boolean sftCached, double wallSeconds) {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** The summary as one JSON object: the four headline figures first, then the rest. */
    public String toJson() {
        ObjectNode o = JSON.createObjectNode();
        put(o, "sft_pass", sftPass);
        put(o, "bon8_pass", bon8Pass);
        put(o, "final_pass", finalPass);
        put(o, "wall_s", wallSeconds);
        o.put("task", "verifiable");
        put(o, "final_bon8_pass", finalBon8Pass);
        put(o, "kl_ref", klRef);
        o.put("policy_versions", policyVersion);
        o.put("updates", updates);
        o.put("generations", generations);
        o.put("scored", scored);
        put(o, "loop_s", loopSeconds);
        put(o, "sft_s", sftSeconds);
        o.put("sft_cached", sftCached);
        o.put("eval_prompts", evalPrompts);
        o.put("seed", seed);
        return o.toString();
    }

    /** The table people read at the end of a run. */
    public void printSummary(PrintWriter out) {
        out.println();
        out.printf(Locale.ROOT, "StreamRLHF verifiable demo (sentiment-count task, GRPO on the verifier's reward, seed %d):"
                + " %.0f s in all, %.0f s of loop%n", seed, wallSeconds, loopSeconds);
        out.println("  ---------------------------------------------------------------");
        out.printf(Locale.ROOT, "                                     pass rate (%d held-out prompts)%n", evalPrompts);
        out.printf(Locale.ROOT, "  SFT policy                          %8.3f%n", sftPass);
        out.printf(Locale.ROOT, "  best-of-8 SFT samples, verifier     %8.3f%n", bon8Pass);
        out.printf(Locale.ROOT, "  %-36s%8.3f%n", "final policy (v" + policyVersion + ")", finalPass);
        out.println("  ---------------------------------------------------------------");
        out.printf(Locale.ROOT, "  final - SFT %+.3f   final - best-of-8 %+.3f   KL to SFT %.3f nats%n",
                finalPass - sftPass, finalPass - bon8Pass, klRef);
        out.printf(Locale.ROOT, "  learner updates %d, generations %d, scored %d%n", updates, generations, scored);
        out.println(finalPass > sftPass
                ? "  => GRPO on the verifier's reward raised the pass rate above the SFT policy's."
                : "  => the pass rate did NOT rise above the SFT policy's in this run.");
        out.flush();
    }

    private static void put(ObjectNode o, String key, double v) {
        if (Double.isNaN(v) || Double.isInfinite(v)) {
            o.putNull(key);
        } else {
            o.put(key, Math.round(v * 1000) / 1000.0);
        }
    }
}
