package io.streamrlhf.loop.demo;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.streamrlhf.evaluator.live.GoldProbe;
import java.io.PrintWriter;
import java.util.Locale;

/**
 * What a demo run measured: what the loop had to beat ({@link Baselines}), what it achieved ({@link Outcome}) and what
 * it took ({@link Cost}). Gold rewards are the synthetic world's hidden reward, averaged over the held-out prompts
 * (one sample per prompt, temperature 1); see {@link GoldProbe}.
 *
 * @param lockstep  whether generation waited for each update
 * @param beta      the KL coefficient
 * @param seed      the seed
 * @param baselines the starting models' figures
 * @param outcome   the final policy's figures and what the loop produced
 * @param cost      the time and CPU the run took
 */
public record DemoResult(boolean lockstep, double beta, long seed, Baselines baselines, Outcome outcome, Cost cost) {

    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * What the loop starts from and has to beat.
     *
     * @param sftGold           the SFT policy
     * @param bon8Gold          best-of-8 SFT samples, picked by the initial reward-model ensemble
     * @param sftProxy          the initial ensemble's standardised score of the SFT policy's samples (about 0 by
     *                          construction)
     * @param rmHeldOutAccuracy the initial ensemble's held-out pairwise accuracy
     * @param sftCached         whether the SFT policy came from the cache
     */
    public record Baselines(double sftGold, double bon8Gold, double sftProxy, double rmHeldOutAccuracy,
                            boolean sftCached) {
    }

    /**
     * What the loop achieved.
     *
     * @param finalGold            the final policy (the learner's newest checkpoint)
     * @param finalProxy           the initial ensemble's standardised score of the final policy's samples
     * @param klRef                the learner's last {@code policy/kl_ref} (nats per sequence)
     * @param policyVersions       policy versions published by the learner
     * @param versionsGenerating   of those, how many the workers picked up and generated with (seen on {@code scored})
     * @param rmVersions           newest reward-model version published (1 is the initial ensemble)
     * @param generations          generations committed by the workers
     * @param scored               scored generations
     * @param preferences          preference pairs made from live feedback
     * @param dlqRecords           records on every dead-letter topic at the end
     * @param targetReachedSeconds loop seconds at which the rolling gold reached the stop target (NaN: none/not
     *                             reached)
     * @param versionsAtTarget     policy versions published by the time the stop target was reached (-1: none/not
     *                             reached)
     */
    public record Outcome(double finalGold, double finalProxy, double klRef, long policyVersions,
                          long versionsGenerating, long rmVersions, long generations, long scored, long preferences,
                          long dlqRecords, double targetReachedSeconds, long versionsAtTarget) {

        /** Policy versions published per loop second until the target was reached; NaN if it was not. */
        public double versionsPerSecondToTarget() {
            return Double.isNaN(targetReachedSeconds) || targetReachedSeconds <= 0 || versionsAtTarget < 0
                    ? Double.NaN : versionsAtTarget / targetReachedSeconds;
        }
    }

    /**
     * What the run took.
     *
     * @param wallSeconds the whole run, starting models and baseline included
     * @param loopSeconds the loop alone
     * @param cpuSeconds  CPU seconds used by the run's processes (this JVM, the reward-model trainer, the registry):
     *                    a load-independent measure of its cost on a shared machine
     * @param sftSeconds  SFT training time of this run (0 when cached)
     * @param rmSeconds   initial reward-model time of this run (preference set and training; 0 when cached)
     * @param loop        what the loop alone used: CPU of this JVM and of the trainer, the learner's updates
     */
    public record Cost(double wallSeconds, double loopSeconds, double cpuSeconds, double sftSeconds, double rmSeconds,
                       LoopCost loop) {

        /** Cores this JVM kept busy on average during the loop. */
        public double loopCores() {
            return loopSeconds > 0 ? loop.jvmCpuSeconds() / loopSeconds : Double.NaN;
        }

        /** Cores the reward-model trainer kept busy on average during the loop. */
        public double trainerCores() {
            return loopSeconds > 0 ? loop.trainerCpuSeconds() / loopSeconds : Double.NaN;
        }
    }

    /**
     * What the loop alone (not the starting models, the baseline or the final measurement) cost.
     *
     * @param jvmCpuSeconds     CPU seconds of this JVM during the loop: workers, reward stream, learner, raters,
     *                          feeder, monitor and the broker, with the JIT compiler and the garbage collector
     * @param trainerCpuSeconds CPU seconds of the reward-model trainer's process during the loop
     * @param updateSeconds     mean wall time of one PPO update on the learner's thread
     * @param referenceGiven    share of the updates whose reference log-probs came from the reward stream (so the
     *                          learner ran no reference forward); NaN when unknown
     * @param waitSeconds       mean time the learner's thread spent between updates polling for and batching
     *                          scored records ({@code time/wait_s}); NaN when unknown
     * @param commitSeconds     mean time it spent committing a version ({@code time/commit_s}): copying the state
     *                          out and waiting for the previous checkpoint's write; NaN when unknown
     * @param firstVersionSeconds loop seconds at which policy version 1 was published: the loop's start-up (the first
     *                          batch generated, scored and trained on), which every mode pays once; NaN when none was
     */
    public record LoopCost(double jvmCpuSeconds, double trainerCpuSeconds, double updateSeconds,
                           double referenceGiven, double waitSeconds, double commitSeconds,
                           double firstVersionSeconds) {
        /** Nothing measured. */
        public static final LoopCost NONE = new LoopCost(Double.NaN, Double.NaN, Double.NaN);

        /** Without the reference share and the learner's time between updates. */
        public LoopCost(double jvmCpuSeconds, double trainerCpuSeconds, double updateSeconds) {
            this(jvmCpuSeconds, trainerCpuSeconds, updateSeconds, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
        }
    }

    /** "streaming" or "lockstep". */
    public String mode() {
        return lockstep ? "lockstep" : "streaming";
    }

    /** The one-line JSON of {@code rlhf demo --json}: the required keys first, then the rest. */
    public String toJson() {
        Baselines b = baselines;
        Outcome r = outcome;
        ObjectNode o = JSON.createObjectNode();
        putFigure(o, "sft_gold", b.sftGold());
        putFigure(o, "bon8_gold", b.bon8Gold());
        putFigure(o, "final_gold", r.finalGold());
        putFigure(o, "final_proxy", r.finalProxy());
        putFigure(o, "kl_ref", r.klRef());
        o.put("policy_versions", r.policyVersions());
        putFigure(o, "wall_s", cost.wallSeconds());
        putFigure(o, "loop_s", cost.loopSeconds());
        putFigure(o, "cpu_s", cost.cpuSeconds());
        o.put("versions_generating", r.versionsGenerating());
        o.put("rm_versions", r.rmVersions());
        o.put("generations", r.generations());
        o.put("scored", r.scored());
        o.put("preferences", r.preferences());
        o.put("dlq_records", r.dlqRecords());
        o.put("mode", mode());
        o.put("beta", beta);
        o.put("seed", seed);
        o.put("sft_cached", b.sftCached());
        putFigure(o, "loop_cores", cost.loopCores());
        putFigure(o, "trainer_cores", cost.trainerCores());
        putFigure(o, "update_s", cost.loop().updateSeconds());
        putFigure(o, "reference_given", cost.loop().referenceGiven());
        putFigure(o, "wait_s", cost.loop().waitSeconds());
        putFigure(o, "commit_s", cost.loop().commitSeconds());
        putFigure(o, "first_version_s", cost.loop().firstVersionSeconds());
        if (r.versionsAtTarget() >= 0) {
            o.put("versions_at_target", r.versionsAtTarget());
            putFigure(o, "target_s", r.targetReachedSeconds());
        }
        try {
            return JSON.writeValueAsString(o);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The summary table for people. */
    public void printSummary(PrintWriter out) {
        Baselines b = baselines;
        Outcome r = outcome;
        out.println();
        out.printf(Locale.ROOT, "StreamRLHF demo (%s, β %s, seed %d): %.0f s in all, %.0f s of loop, %.0f CPU s%n",
                mode(), beta, seed, cost.wallSeconds(), cost.loopSeconds(), cost.cpuSeconds());
        out.println("  ---------------------------------------------------------------");
        out.println("                                     gold reward   proxy (RM z)");
        // The SFT proxy is 0 by construction, up to rounding: do not print "-0.000".
        out.printf(Locale.ROOT, "  SFT policy                          %8.3f      %+8.3f%n", b.sftGold(),
                Math.abs(b.sftProxy()) < 5e-4 ? 0.0 : b.sftProxy());
        out.printf(Locale.ROOT, "  best-of-8 SFT samples, RM-ranked    %8.3f             -%n", b.bon8Gold());
        out.printf(Locale.ROOT, "  %-36s%8.3f      %+8.3f%n", "final policy (v" + r.policyVersions() + ")",
                r.finalGold(), r.finalProxy());
        out.println("  ---------------------------------------------------------------");
        out.printf(Locale.ROOT, "  final - SFT %+.3f   final - best-of-8 %+.3f   KL to SFT %.3f nats%n",
                r.finalGold() - b.sftGold(), r.finalGold() - b.bon8Gold(), r.klRef());
        out.printf(Locale.ROOT, "  policy versions %d published, %d generated with; reward models v%d%n",
                r.policyVersions(), r.versionsGenerating(), r.rmVersions());
        out.printf(Locale.ROOT, "  generations %d, scored %d, live preference pairs %d, dead letters %d%n",
                r.generations(), r.scored(), r.preferences(), r.dlqRecords());
        out.println(r.finalGold() > b.bon8Gold()
                ? "  => the " + mode() + "-trained policy beats best-of-8 reranking on the hidden gold reward."
                : "  => the final policy did NOT beat best-of-8 reranking on the gold reward in this run.");
        out.flush();
    }

    /** A figure rounded to four decimals, or null where there is none (NaN, infinite): the line stays JSON. */
    private static void putFigure(ObjectNode o, String key, double v) {
        if (Double.isNaN(v) || Double.isInfinite(v)) {
            o.putNull(key);
        } else {
            o.put(key, round(v));
        }
    }

    private static double round(double v) {
        return Math.round(v * 10_000) / 10_000.0;
    }
}
