package io.streamrlhf.loop.bench;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.ToLongFunction;
import java.util.stream.Collectors;

/**
 * The samples of a soak run (each process's resident memory and each consumer group's lag, at intervals) and what
 * they say: every process's memory growth after the warm-up, and whether each group's lag stayed bounded.
 *
 * <p>Growth compares the median of a process's first three samples after the warm-up with the median of its last
 * three, so one sample caught mid-collection moves neither end. A process restarted after the warm-up is measured
 * from its newest start and flagged. A group's lag is bounded when its highest lag in the second half of the
 * measured part is at most twice its highest in the first half plus {@value #LAG_SLACK} records: lag that grows
 * without limit fails that, a queue that fills and drains does not. The anonymous and file-mapped parts of each
 * process's memory are reported beside the whole, which alone decides the verdict. A group with no lag in the first half (it had
 * committed nothing yet) cannot be judged; it is listed, and neither passes nor fails the run.
 */
public final class SoakSeries {

    /** Records of lag allowed above twice the first half's highest before lag counts as growing. */
    public static final long LAG_SLACK = 100;
    /** Growth allowed for every process, in per cent. */
    public static final double MAX_GROWTH_PCT = 5.0;

    /**
     * One process at one sample.
     *
     * @param pid    its pid then
     * @param rssKb  its resident memory in KiB
     * @param anonKb the anonymous part of it in KiB, -1 where unknown
     * @param fileKb the part of it that maps files in KiB, -1 where unknown
     */
    public record ProcessSample(long pid, long rssKb, long anonKb, long fileKb) {

        /** A sample of the whole resident memory only. */
        public ProcessSample(long pid, long rssKb) {
            this(pid, rssKb, -1, -1);
        }
    }

    /**
     * One sample.
     *
     * @param atSeconds seconds since the run started
     * @param processes each running process by name
     * @param lags      each consumer group's lag that could be read, by group
     */
    public record Sample(double atSeconds, Map<String, ProcessSample> processes, Map<String, Long> lags) {
    }

    /**
     * One process's memory over the measured part.
     *
     * @param rssStartMb median of its first samples after the warm-up, MiB
     * @param rssEndMb   median of its last samples, MiB
     * @param growthPct  {@code (end - start) / start}, per cent
     * @param restarted  whether its pid changed after the warm-up (measured from the newest pid)
     * @param samples    samples measured
     * @param anonStartMb the same median of its anonymous memory, MiB (NaN where unknown)
     * @param anonEndMb   the same median at the end
     * @param fileStartMb the same median of its mapped files, MiB (NaN where unknown)
     * @param fileEndMb   the same median at the end
     */
    public record Growth(double rssStartMb, double rssEndMb, double growthPct, boolean restarted, int samples,
                         double anonStartMb, double anonEndMb, double fileStartMb, double fileEndMb) {

        /** Growth of the anonymous part, per cent (NaN where unknown). */
        public double anonGrowthPct() {
            return anonStartMb > 0 ? (anonEndMb - anonStartMb) / anonStartMb * 100 : Double.NaN;
        }
    }

    /**
     * What the run says.
     *
     * @param minutes         the run's length
     * @param samples         samples taken
     * @param warmupSeconds   seconds left out at the start
     * @param processes       growth by process name
     * @param maxGrowthPct    the largest growth
     * @param maxLag          the highest lag of any group after the warm-up
     * @param maxLagByGroup   the highest lag of each group after the warm-up
     * @param unboundedGroups groups whose lag grew
     * @param unjudgedGroups  groups with a lag only in the second half, too late to judge
     * @param ok              every process grew less than {@link #MAX_GROWTH_PCT} and every lag stayed bounded
     */
    public record Result(double minutes, int samples, double warmupSeconds, Map<String, Growth> processes,
                         double maxGrowthPct, long maxLag, Map<String, Long> maxLagByGroup,
                         List<String> unboundedGroups, List<String> unjudgedGroups, boolean ok) {

        /** Whether every group's lag stayed bounded. */
        public boolean lagBounded() {
            return unboundedGroups.isEmpty();
        }

        /**
         * The JSON line: {@code {"minutes":..., "processes":{NAME:{"rss_start_mb":..., "rss_end_mb":...,
         * "growth_pct":...}}, "max_rss_growth_pct":..., "max_lag":..., "lag_bounded":..., "ok":...}}.
         */
        public String toJson() {
            String procs = processes.entrySet().stream().map(e -> String.format(Locale.ROOT,
                    "\"%s\":{\"rss_start_mb\":%.1f, \"rss_end_mb\":%.1f, \"growth_pct\":%.2f, \"restarted\":%s, "
                            + "\"samples\":%d, \"anon_start_mb\":%s, \"anon_end_mb\":%s, \"anon_growth_pct\":%s, "
                            + "\"file_start_mb\":%s, \"file_end_mb\":%s}", e.getKey(), e.getValue().rssStartMb(),
                    e.getValue().rssEndMb(), e.getValue().growthPct(), e.getValue().restarted(),
                    e.getValue().samples(), number(e.getValue().anonStartMb()), number(e.getValue().anonEndMb()),
                    number(e.getValue().anonGrowthPct()), number(e.getValue().fileStartMb()),
                    number(e.getValue().fileEndMb())))
                    .collect(Collectors.joining(", "));
            String lags = maxLagByGroup.entrySet().stream().map(e -> "\"" + e.getKey() + "\":" + e.getValue())
                    .collect(Collectors.joining(", "));
            String unjudged = unjudgedGroups.stream().map(g -> "\"" + g + "\"").collect(Collectors.joining(", "));
            String unbounded = unboundedGroups.stream().map(g -> "\"" + g + "\"").collect(Collectors.joining(", "));
            return String.format(Locale.ROOT, "{\"minutes\":%.1f, \"samples\":%d, \"warmup_s\":%.0f, "
                            + "\"processes\":{%s}, \"max_rss_growth_pct\":%.2f, \"max_lag\":%d, "
                            + "\"max_lag_by_group\":{%s}, \"lag_unbounded\":[%s], \"lag_unjudged\":[%s], "
                            + "\"lag_bounded\":%s, \"ok\":%s}", minutes, samples, warmupSeconds, procs, maxGrowthPct,
                    maxLag, lags, unbounded, unjudged, lagBounded(), ok);
        }
    }

    private final List<Sample> samples = new ArrayList<>();

    /** Adds a sample; samples come in time order. */
    public synchronized void add(Sample sample) {
        samples.add(sample);
    }

    /** How many samples so far. */
    public synchronized int size() {
        return samples.size();
    }

    /**
     * What the samples say, leaving out the first {@code warmupFraction} of the run.
     *
     * @param alive whether every process still ran at the end (a dead process fails the run)
     */
    public synchronized Result result(double warmupFraction, boolean alive) {
        if (warmupFraction < 0 || warmupFraction >= 1) {
            throw new IllegalArgumentException("the warm-up must be in [0, 1), got " + warmupFraction);
        }
        double end = samples.isEmpty() ? 0 : samples.get(samples.size() - 1).atSeconds();
        double warmup = end * warmupFraction;
        List<Sample> measured = samples.stream().filter(s -> s.atSeconds() >= warmup).toList();

        Map<String, Growth> growth = new TreeMap<>();
        Map<String, List<ProcessSample>> byName = new LinkedHashMap<>();
        for (Sample s : measured) {
            s.processes().forEach((name, p) -> byName.computeIfAbsent(name, k -> new ArrayList<>()).add(p));
        }
        byName.forEach((name, series) -> {
            long lastPid = series.get(series.size() - 1).pid();
            List<ProcessSample> latest = series.stream().filter(p -> p.pid() == lastPid).toList();
            int k = Math.min(3, Math.max(1, latest.size() / 2));
            List<ProcessSample> first = latest.subList(0, k);
            List<ProcessSample> tail = latest.subList(latest.size() - k, latest.size());
            double start = median(first, ProcessSample::rssKb) / 1024.0;
            double last = median(tail, ProcessSample::rssKb) / 1024.0;
            growth.put(name, new Growth(start, last, start > 0 ? (last - start) / start * 100 : 0,
                    latest.size() < series.size(), latest.size(), known(first, ProcessSample::anonKb),
                    known(tail, ProcessSample::anonKb), known(first, ProcessSample::fileKb),
                    known(tail, ProcessSample::fileKb)));
        });
        double maxGrowth = growth.values().stream().mapToDouble(Growth::growthPct).max().orElse(0);

        Map<String, Long> maxLag = new TreeMap<>();
        List<String> unbounded = new ArrayList<>();
        List<String> unjudged = new ArrayList<>();
        int half = measured.size() / 2;
        Map<String, Long> firstHalf = highest(measured.subList(0, half));
        Map<String, Long> secondHalf = highest(measured.subList(half, measured.size()));
        for (Sample s : measured) {
            s.lags().forEach((g, lag) -> maxLag.merge(g, lag, Math::max));
        }
        secondHalf.forEach((g, high) -> {
            Long before = firstHalf.get(g);
            if (before == null) {
                unjudged.add(g);
            } else if (high > 2 * before + LAG_SLACK) {
                unbounded.add(g);
            }
        });
        long highestLag = maxLag.values().stream().max(Comparator.naturalOrder()).orElse(0L);
        boolean ok = alive && measured.size() >= 3 && maxGrowth < MAX_GROWTH_PCT && unbounded.isEmpty();
        return new Result(end / 60.0, samples.size(), warmup, growth, maxGrowth, highestLag, maxLag,
                List.copyOf(unbounded), List.copyOf(unjudged), ok);
    }

    private static Map<String, Long> highest(List<Sample> part) {
        Map<String, Long> out = new TreeMap<>();
        for (Sample s : part) {
            s.lags().forEach((g, lag) -> out.merge(g, lag, Math::max));
        }
        return out;
    }

    /** The median of a part of memory in MiB, NaN when a sample does not know it. */
    private static double known(List<ProcessSample> part, ToLongFunction<ProcessSample> kb) {
        return part.stream().anyMatch(p -> kb.applyAsLong(p) < 0) ? Double.NaN : median(part, kb) / 1024.0;
    }

    private static String number(double value) {
        return Double.isNaN(value) ? "null" : String.format(Locale.ROOT, "%.2f", value);
    }

    private static double median(List<ProcessSample> part, ToLongFunction<ProcessSample> kb) {
        long[] values = part.stream().mapToLong(kb).sorted().toArray();
        int n = values.length;
        return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2.0;
    }
}
