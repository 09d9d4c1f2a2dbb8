package io.streamrlhf.loop.demo;

import io.streamrlhf.evaluator.live.GoldProbe;
import io.streamrlhf.evaluator.live.LoopMonitor;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/** The live line: where the loop is, next to the baseline it has to beat. */
final class ProgressLine {
    private final GoldProbe.Baseline baseline;
    private final boolean lockstep;

    ProgressLine(GoldProbe.Baseline baseline, boolean lockstep) {
        this.baseline = baseline;
        this.lockstep = lockstep;
    }

    String format(LoopMonitor.Snapshot s, ThroughputPoint t, long workerVersion, long learnerVersion) {
        LoopMonitor.VersionPoint newest = s.versions().isEmpty() ? null : s.versions().get(s.versions().size() - 1);
        Map<String, String> parts = new LinkedHashMap<>();
        parts.put("t", String.format(Locale.ROOT, "%d:%02d", (long) t.seconds() / 60, (long) t.seconds() % 60));
        parts.put("policy", "v" + learnerVersion + " (workers v" + Math.max(0, workerVersion) + ")");
        parts.put("gold", fmt(s.rollingGold(), "%.2f") + String.format(Locale.ROOT, " (SFT %.2f, BoN-8 %.2f)",
                baseline.sft().gold(), baseline.bestOfNGold()));
        parts.put("proxy", newest == null ? "-" : fmt(newest.rawProxy(), "%+.2f"));
        parts.put("KL", fmt(s.klRef(), "%.2f"));
        parts.put("gen/s", String.format(Locale.ROOT, "%.0f", t.generationsPerS()));
        parts.put("scored/s", String.format(Locale.ROOT, "%.0f", t.scoredPerS()));
        parts.put("stale", fmt(s.staleness(), "%.1f"));
        parts.put("RM", "v" + Math.max(1, s.newestRm()));
        parts.put("prefs", Long.toString(s.preferences()));
        StringBuilder sb = new StringBuilder(lockstep ? "[lockstep] " : "");
        parts.forEach((k, v) -> sb.append(k.equals("t") ? "" : k + " ").append(v).append("  "));
        return sb.toString().trim();
    }

    private static String fmt(double v, String pattern) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, pattern, v);
    }
}
