package io.streamrlhf.loop.chaos;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a chaos run did and what its audit found.
 *
 * @param seed          the kill schedule's seed
 * @param kills         the kills done, in order
 * @param scaled        {@code add worker-2}, {@code remove worker-2}, ...: the members added and removed meanwhile
 * @param policyVersion the newest policy version published
 * @param rmVersion     the newest reward-model version published; -1 for none
 * @param findings      the audit's
 * @param drainS        seconds from the feed's stop to the drained loop (or the drain's timeout)
 * @param restarts      restarts per process at the end of the kills: more than its kills means it also exited on
 *                      its own (the paused learner does, once resumed: it lost the lease)
 * @param zombie        what the pause of the active learner found; null when none was paused
 */
public record ChaosReport(long seed, List<Done> kills, List<String> scaled, long policyVersion, long rmVersion,
                          Audit.Findings findings, double drainS, Map<String, Integer> restarts, ZombieCheck zombie) {

    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * One kill done.
     *
     * @param kind      what kind
     * @param name      the process killed ({@code broker-2})
     * @param pid       its pid
     * @param atS       seconds into the run
     * @param recoveryS seconds from the SIGKILL until it was back (see {@link ChaosRun}); -1: not back in time
     */
    public record Done(ChaosKind kind, String name, long pid, double atS, double recoveryS) {
    }

    /** Kills per kind, by {@link ChaosKind#key()}. */
    public Map<String, Integer> killsByKind() {
        Map<String, Integer> out = new TreeMap<>();
        kills.forEach(k -> out.merge(k.kind().key(), 1, Integer::sum));
        return out;
    }

    /** The longest recovery, in seconds; -1 when one did not recover in time. */
    public double maxRecoveryS() {
        if (kills.stream().anyMatch(k -> k.recoveryS() < 0)) {
            return -1;
        }
        return kills.stream().mapToDouble(Done::recoveryS).max().orElse(0);
    }

    /**
     * Whether nothing was lost, nothing done twice, nothing stuck, every killed member came back, and the paused
     * learner (if one was) was replaced and published nothing once resumed.
     */
    public boolean clean() {
        return findings.lost() == 0 && findings.duplicated() == 0 && findings.stuck() == 0 && maxRecoveryS() >= 0
                && (zombie == null || zombie.clean());
    }

    /** The report as one JSON object: the fields first, then the details. */
    public String toJson() {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("kills", kills.size());
        out.put("kills_by_kind", killsByKind());
        out.put("broker_kills", kills.stream().filter(k -> k.kind() == ChaosKind.BROKER).count());
        out.put("registry_outages", kills.stream().filter(k -> k.kind() == ChaosKind.REGISTRY).count());
        Map<String, Object> audit = Audit.fields(findings);
        out.put("prompts", audit.remove("prompts"));
        out.put("lost", audit.remove("lost"));
        out.put("duplicated", audit.remove("duplicated"));
        out.put("stuck", audit.remove("stuck"));
        out.put("max_recovery_s", round(maxRecoveryS()));
        out.put("dlq", audit.remove("dlq"));
        Map<String, Double> worst = new TreeMap<>();
        kills.forEach(k -> worst.merge(k.kind().key(), round(k.recoveryS()), (a, b) -> a < 0 || b < 0 ? -1 : Math.max(a,
                b)));
        out.put("recovery_s_by_kind", worst);
        out.put("unrecovered", kills.stream().filter(k -> k.recoveryS() < 0).count());
        out.put("zombie", zombie == null ? null : zombie.fields());
        out.put("seed", seed);
        out.putAll(audit);
        out.put("policy_version", policyVersion);
        out.put("rm_version", rmVersion);
        out.put("scaled", scaled);
        out.put("drain_s", round(drainS));
        out.put("restarts", restarts);
        out.put("problems", findings.problems().stream().limit(10).toList());
        try {
            return JSON.writeValueAsString(out);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static double round(double s) {
        return Math.round(s * 10) / 10.0;
    }
}
