package io.streamrlhf.loop.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Map;
import org.junit.jupiter.api.Test;

class SoakSeriesTest {

    private static SoakSeries.Sample at(double s, long workerPid, long workerKb, long learnerKb, long lag) {
        return new SoakSeries.Sample(s, Map.of("worker-0", new SoakSeries.ProcessSample(workerPid, workerKb),
                "learn-0", new SoakSeries.ProcessSample(7, learnerKb)), Map.of("rlhf-score", lag));
    }

    @Test
    void growthComparesTheMediansOfTheFirstAndLastSamplesAfterTheWarmUp() {
        SoakSeries series = new SoakSeries();
        // 0..100 s; the warm-up (20 %) is 0..20 s, where the worker grows from 100 to 400 MiB (not counted).
        series.add(at(0, 5, 100 * 1024, 300 * 1024, 10));
        series.add(at(10, 5, 400 * 1024, 300 * 1024, 50));
        long[] worker = {400, 9000, 400, 402, 404, 406, 408, 410, 412};  // one spike, then slow growth to 412 MiB
        for (int i = 0; i < worker.length; i++) {
            series.add(at(20 + i * 10, 5, worker[i] * 1024, 300 * 1024, 20 + (i % 3) * 10));
        }
        SoakSeries.Result r = series.result(0.2, true);
        assertThat(r.samples()).isEqualTo(11);
        assertThat(r.warmupSeconds()).isEqualTo(20.0);
        SoakSeries.Growth w = r.processes().get("worker-0");
        // First three after the warm-up: 400, 9000, 400 -> median 400; last three: 408, 410, 412 -> 410.
        assertThat(w.rssStartMb()).isEqualTo(400.0);
        assertThat(w.rssEndMb()).isEqualTo(410.0);
        assertThat(w.growthPct()).isCloseTo(2.5, within(1e-9));
        assertThat(w.restarted()).isFalse();
        assertThat(r.processes().get("learn-0").growthPct()).isZero();
        assertThat(r.maxGrowthPct()).isCloseTo(2.5, within(1e-9));
        assertThat(r.maxLag()).isEqualTo(40);
        assertThat(r.lagBounded()).isTrue();
        assertThat(r.ok()).isTrue();
        assertThat(r.toJson()).contains("\"worker-0\":{\"rss_start_mb\":400.0, \"rss_end_mb\":410.0, "
                + "\"growth_pct\":2.50").contains("\"max_lag\":40").contains("\"lag_bounded\":true")
                .endsWith("\"ok\":true}");
    }

    @Test
    void growingLagOrMemoryOrADeadProcessFailTheRunAndARestartIsMeasuredFromItsNewPid() {
        SoakSeries series = new SoakSeries();
        for (int i = 0; i < 10; i++) {
            long pid = i < 6 ? 5 : 6;  // restarted at 60 s: back to 200 MiB, then 200 -> 230
            long kb = (i < 6 ? 500 : 200 + (i - 6) * 10) * 1024L;
            series.add(at(i * 10, pid, kb, (300 + i * 10) * 1024L, 100L * i * i));
        }
        SoakSeries.Result r = series.result(0.0, true);
        SoakSeries.Growth w = r.processes().get("worker-0");
        assertThat(w.restarted()).isTrue();
        assertThat(w.samples()).isEqualTo(4);
        // New pid's samples 200, 210, 220, 230: k = 2, medians 205 and 225.
        assertThat(w.growthPct()).isCloseTo((225.0 - 205.0) / 205.0 * 100, within(1e-9));
        // Learner 300 -> 390 MiB: medians of 300, 310, 320 and 370, 380, 390.
        assertThat(r.processes().get("learn-0").growthPct()).isCloseTo((380.0 - 310.0) / 310.0 * 100, within(1e-9));
        // Lag 0, 100, 400, ..., 8100: the second half's 8100 is far above twice the first half's 1600 plus slack.
        assertThat(r.maxLag()).isEqualTo(8100);
        assertThat(r.unboundedGroups()).containsExactly("rlhf-score");
        assertThat(r.toJson()).contains("\"lag_unbounded\":[\"rlhf-score\"]");
        assertThat(r.ok()).isFalse();

        SoakSeries flat = new SoakSeries();
        for (int i = 0; i < 5; i++) {
            flat.add(at(i * 10, 5, 100 * 1024, 100 * 1024, 5));
        }
        assertThat(flat.result(0.2, true).ok()).isTrue();
        assertThat(flat.result(0.2, false).ok()).as("a process died").isFalse();

        // A group whose lag first shows in the second half (it had committed nothing before) cannot be judged.
        SoakSeries late = new SoakSeries();
        for (int i = 0; i < 6; i++) {
            late.add(new SoakSeries.Sample(i * 10, Map.of("worker-0", new SoakSeries.ProcessSample(5, 1024)),
                    i < 4 ? Map.of() : Map.of("rlhf-demo-learner", 900L)));
        }
        SoakSeries.Result r2 = late.result(0.0, true);
        assertThat(r2.unjudgedGroups()).containsExactly("rlhf-demo-learner");
        assertThat(r2.lagBounded()).isTrue();
        assertThat(r2.maxLag()).isEqualTo(900);
        assertThat(r2.toJson()).contains("\"lag_unjudged\":[\"rlhf-demo-learner\"]");
    }

    @Test
    void vmRssIsReadFromProcStatus() {
        String status = "Name:\tjava\nVmPeak:\t 9000 kB\nVmRSS:\t  123456 kB\nRssAnon:\t 1 kB\n";
        assertThat(ProcessMemory.vmRssKb(status)).hasValue(123456);
        assertThat(ProcessMemory.vmRssKb("Name:\tkthreadd\n")).isEmpty();
        if (java.nio.file.Files.isDirectory(java.nio.file.Path.of("/proc/self"))) {
            assertThat(ProcessMemory.rssKb(ProcessHandle.current().pid()).getAsLong()).as("this JVM's RSS in KiB")
                    .isGreaterThan(10_000);
        }
        assertThat(ProcessMemory.rssKb(Long.MAX_VALUE)).isEmpty();
    }

    @Test
    void theAnonymousAndFileMappedPartsAreReportedBesideTheWhole() {
        String status = "Name:\tjava\nVmRSS:\t  3000 kB\nRssAnon:\t 2048 kB\nRssFile:\t 952 kB\n";
        assertThat(ProcessMemory.fieldKb(status, "RssAnon")).hasValue(2048);
        assertThat(ProcessMemory.fieldKb(status, "RssFile")).hasValue(952);
        if (java.nio.file.Files.isDirectory(java.nio.file.Path.of("/proc/self"))) {
            ProcessMemory.Resident self = ProcessMemory.resident(ProcessHandle.current().pid()).orElseThrow();
            assertThat(self.anonKb() + self.fileKb()).as("anon + file <= RSS (shared memory is the rest)")
                    .isPositive().isLessThanOrEqualTo(self.rssKb());
        }
        SoakSeries series = new SoakSeries();
        // A process whose mapped files grow (a broker's index files) while its anonymous memory stays flat.
        for (int i = 0; i < 10; i++) {
            series.add(new SoakSeries.Sample(i * 10, Map.of("cluster", new SoakSeries.ProcessSample(3,
                    (400 + 10L * i) * 1024, 300 * 1024, (100 + 10L * i) * 1024)), Map.of()));
        }
        SoakSeries.Growth g = series.result(0.0, true).processes().get("cluster");
        assertThat(g.anonGrowthPct()).isZero();
        assertThat(g.fileStartMb()).isEqualTo(110.0);
        assertThat(g.fileEndMb()).isEqualTo(180.0);
        assertThat(g.growthPct()).as("the whole decides").isCloseTo(70.0 / 410 * 100, within(1e-9));
        assertThat(series.result(0.0, true).toJson()).contains("\"anon_growth_pct\":0.00, \"file_start_mb\":110.00, "
                + "\"file_end_mb\":180.00");
        SoakSeries unknown = new SoakSeries();
        for (int i = 0; i < 4; i++) {
            unknown.add(new SoakSeries.Sample(i, Map.of("p", new SoakSeries.ProcessSample(1, 1024)), Map.of()));
        }
        assertThat(unknown.result(0.0, true).toJson()).contains("\"anon_start_mb\":null");
    }
}
