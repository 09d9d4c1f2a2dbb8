package io.streamrlhf.loop.demo;

import io.streamrlhf.evaluator.live.LoopMonitor;
import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeSet;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.ui.RectangleAnchor;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * The demo's report: {@code index.html} with the summary table and three PNG charts (JFreeChart): gold and proxy reward
 * over policy versions with the SFT and best-of-8 levels, KL to the reference over updates, and throughput over time;
 * and the numbers behind them, {@code summary.json}, {@code versions.csv} and {@code updates.csv}.
 */
final class DemoReport {

    private static final int WIDTH = 820;
    private static final int HEIGHT = 380;
    /** Versions averaged (weighted by samples) in the smoothed gold curve. */
    private static final int SMOOTHING = 8;

    private DemoReport() {
    }

    /**
     * Writes the report into {@code dir} (created).
     *
     * @return the index file
     */
    static Path write(Path dir, DemoOptions options, DemoResult result, LoopMonitor.Snapshot snap,
                      List<ThroughputPoint> throughput, SortedMap<Long, Map<String, Double>> learnerMetrics) {
        try {
            Files.createDirectories(dir);
            ChartUtils.saveChartAsPNG(dir.resolve("reward.png").toFile(), rewardChart(result, snap), WIDTH, HEIGHT);
            ChartUtils.saveChartAsPNG(dir.resolve("kl.png").toFile(), klChart(snap), WIDTH, HEIGHT);
            ChartUtils.saveChartAsPNG(dir.resolve("throughput.png").toFile(), throughputChart(throughput), WIDTH,
                    HEIGHT);
            Files.writeString(dir.resolve("summary.json"), result.toJson() + "\n", StandardCharsets.UTF_8);
            Files.writeString(dir.resolve("versions.csv"), versionsCsv(snap), StandardCharsets.UTF_8);
            Files.writeString(dir.resolve("updates.csv"), updatesCsv(learnerMetrics), StandardCharsets.UTF_8);
            Path index = dir.resolve("index.html");
            Files.writeString(index, html(options, result, snap), StandardCharsets.UTF_8);
            return index;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the demo report to " + dir + ": " + e.getMessage(), e);
        }
    }

    static JFreeChart rewardChart(DemoResult result, LoopMonitor.Snapshot snap) {
        XYSeries gold = new XYSeries("gold reward (hidden)");
        XYSeries smooth = new XYSeries("gold, mean of the last " + SMOOTHING + " versions");
        XYSeries proxy = new XYSeries("proxy: mean raw RM score");
        List<LoopMonitor.VersionPoint> vs = snap.versions();
        for (int i = 0; i < vs.size(); i++) {
            LoopMonitor.VersionPoint v = vs.get(i);
            gold.add(v.version(), v.gold());
            proxy.add(v.version(), v.rawProxy());
            double sum = 0;
            long n = 0;
            for (int j = Math.max(0, i - SMOOTHING + 1); j <= i; j++) {
                sum += vs.get(j).gold() * vs.get(j).count();
                n += vs.get(j).count();
            }
            smooth.add(v.version(), sum / n);
        }
        XYSeriesCollection goldData = new XYSeriesCollection(gold);
        goldData.addSeries(smooth);
        JFreeChart chart = ChartFactory.createXYLineChart("Reward of each policy version's generations",
                "policy version", "gold reward", goldData, PlotOrientation.VERTICAL, true, false, false);
        XYPlot plot = chart.getXYPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        NumberAxis goldAxis = (NumberAxis) plot.getRangeAxis();
        goldAxis.setAutoRangeIncludesZero(false);
        NumberAxis proxyAxis = new NumberAxis("proxy (raw RM score)");
        proxyAxis.setAutoRangeIncludesZero(false);
        plot.setRangeAxis(1, proxyAxis);
        plot.setDataset(1, new XYSeriesCollection(proxy));
        plot.mapDatasetToRangeAxis(1, 1);
        XYLineAndShapeRenderer goldRenderer = new XYLineAndShapeRenderer(true, false);
        goldRenderer.setSeriesPaint(0, new Color(120, 190, 150));
        goldRenderer.setSeriesPaint(1, new Color(0, 100, 50));
        goldRenderer.setSeriesStroke(1, new BasicStroke(2.5f));
        plot.setRenderer(0, goldRenderer);
        XYLineAndShapeRenderer proxyRenderer = new XYLineAndShapeRenderer(true, false);
        proxyRenderer.setSeriesPaint(0, new Color(200, 90, 0));
        plot.setRenderer(1, proxyRenderer);
        plot.addRangeMarker(marker(result.baselines().sftGold(), "SFT", Color.GRAY));
        plot.addRangeMarker(marker(result.baselines().bon8Gold(), "best-of-8", new Color(60, 60, 200)));
        return chart;
    }

    private static ValueMarker marker(double value, String label, Color color) {
        ValueMarker m = new ValueMarker(value, color, new BasicStroke(1.2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER,
                1f, new float[] {6f, 4f}, 0f));
        m.setLabel(String.format(Locale.ROOT, "%s %.2f", label, value));
        m.setLabelAnchor(RectangleAnchor.TOP_LEFT);
        m.setLabelTextAnchor(TextAnchor.BOTTOM_LEFT);
        return m;
    }

    static JFreeChart klChart(LoopMonitor.Snapshot snap) {
        XYSeries kl = new XYSeries("KL to the SFT reference (policy/kl_ref)");
        XYSeries stale = new XYSeries("staleness of trained samples (data/staleness)");
        for (LoopMonitor.UpdatePoint u : snap.updates()) {
            if (!Double.isNaN(u.klRef())) {
                kl.add(u.step(), u.klRef());
            }
            if (!Double.isNaN(u.staleness())) {
                stale.add(u.step(), u.staleness());
            }
        }
        XYSeriesCollection data = new XYSeriesCollection(kl);
        data.addSeries(stale);
        JFreeChart chart = ChartFactory.createXYLineChart("KL to the reference and staleness, per learner update",
                "update", "nats per sequence / versions", data, PlotOrientation.VERTICAL, true, false, false);
        chart.getXYPlot().setBackgroundPaint(Color.WHITE);
        chart.getXYPlot().setRangeGridlinePaint(Color.LIGHT_GRAY);
        return chart;
    }

    static JFreeChart throughputChart(List<ThroughputPoint> points) {
        XYSeries generations = new XYSeries("generations/s (workers)");
        XYSeries scored = new XYSeries("scored/s (reward stream)");
        for (ThroughputPoint p : points) {
            generations.add(p.seconds(), p.generationsPerS());
            scored.add(p.seconds(), p.scoredPerS());
        }
        XYSeriesCollection data = new XYSeriesCollection(generations);
        data.addSeries(scored);
        JFreeChart chart = ChartFactory.createXYLineChart("Throughput", "loop seconds", "records per second", data,
                PlotOrientation.VERTICAL, true, false, false);
        chart.getXYPlot().setBackgroundPaint(Color.WHITE);
        chart.getXYPlot().setRangeGridlinePaint(Color.LIGHT_GRAY);
        return chart;
    }

    static String html(DemoOptions options, DemoResult r, LoopMonitor.Snapshot snap) {
        DemoResult.Baselines b = r.baselines();
        DemoResult.Outcome o = r.outcome();
        StringBuilder h = new StringBuilder();
        h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>StreamRLHF demo</title>\n")
                .append("<style>body{font-family:sans-serif;max-width:900px;margin:2em auto;color:#222}")
                .append("table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}")
                .append("td:first-child,th:first-child{text-align:left}.win{color:#060}.lose{color:#a00}</style>")
                .append("</head><body>\n<h1>StreamRLHF demo</h1>\n");
        h.append(String.format(Locale.ROOT, "<p>%s loop, β = %s, seed %d, %d-sequence batches, %d reward models; "
                        + "%.0f s in all (%.0f s of loop).</p>%n", r.lockstep() ? "Lockstep" : "Streaming", r.beta(),
                r.seed(), options.batchSequences(), options.rmEnsemble(), r.cost().wallSeconds(),
                r.cost().loopSeconds()));
        h.append("<h2>Does it learn? Gold reward on held-out prompts</h2>\n<table>\n")
                .append("<tr><th>policy</th><th>gold reward</th><th>proxy (initial RM ensemble, SFT std units)</th></tr>\n");
        h.append(row("SFT policy", b.sftGold(), b.sftProxy()));
        h.append(row("best-of-8 SFT samples, ranked by the RM ensemble", b.bon8Gold(), Double.NaN));
        h.append(row("final policy (version " + o.policyVersions() + ")", o.finalGold(), o.finalProxy()));
        h.append("</table>\n");
        boolean win = o.finalGold() > b.bon8Gold();
        h.append(String.format(Locale.ROOT, "<p class=\"%s\">Final − best-of-8: %+.3f gold; final − SFT: %+.3f; KL to "
                        + "the SFT reference %.3f nats per sequence.</p>%n", win ? "win" : "lose",
                o.finalGold() - b.bon8Gold(), o.finalGold() - b.sftGold(), o.klRef()));
        h.append("<p>The gold reward is the synthetic world's hidden reward (sentiment, staying on topic, fluency, "
                + "no repetition, length); no model sees it. Raters label by it with noise; the reward models learn "
                + "from their labels; the policy learns from the reward models. If the proxy rises while gold falls, "
                + "the policy is exploiting the reward models (try <code>--beta 0</code>).</p>\n");
        h.append("<h2>Reward over policy versions</h2>\n<img src=\"reward.png\" alt=\"gold and proxy reward\">\n");
        h.append("<h2>KL to the reference</h2>\n<img src=\"kl.png\" alt=\"KL to the reference\">\n");
        h.append("<h2>Throughput</h2>\n<img src=\"throughput.png\" alt=\"throughput\">\n");
        h.append("<h2>Counts</h2>\n<table>\n");
        h.append(count("policy versions published", o.policyVersions()));
        h.append(count("policy versions the workers generated with", o.versionsGenerating()));
        h.append(count("reward-model versions (1 = initial ensemble)", o.rmVersions()));
        h.append(count("generations", o.generations()));
        h.append(count("scored generations", o.scored()));
        h.append(count("live preference pairs (simulated raters)", o.preferences()));
        h.append(count("dead letters", o.dlqRecords()));
        h.append("</table>\n");
        h.append("<h2>Cost</h2>\n<table>\n");
        h.append(figure("CPU seconds of the run's processes (this JVM, the trainer, the registry)",
                r.cost().cpuSeconds(), "%.0f"));
        h.append(figure("cores the demo's JVM kept busy during the loop", r.cost().loopCores(), "%.2f"));
        h.append(figure("cores the reward-model trainer kept busy during the loop", r.cost().trainerCores(), "%.2f"));
        h.append(figure("mean PPO update (seconds)", r.cost().loop().updateSeconds(), "%.3f"));
        h.append("</table>\n");
        h.append("<h2>Per policy version</h2>\n<table>\n<tr><th>version</th><th>scored</th><th>gold</th>"
                + "<th>raw RM score</th><th>reward (normalised)</th><th>tokens</th></tr>\n");
        for (LoopMonitor.VersionPoint v : snap.versions()) {
            h.append(String.format(Locale.ROOT, "<tr><td>%d</td><td>%d</td><td>%.3f</td><td>%.3f</td><td>%.3f</td>"
                    + "<td>%.1f</td></tr>%n", v.version(), v.count(), v.gold(), v.rawProxy(), v.reward(), v.tokens()));
        }
        h.append("</table>\n<p><code>summary.json</code> holds the numbers as <code>rlhf demo --json</code> prints them"
                + "; <code>versions.csv</code> the table above with the loop second each version was published; "
                + "<code>updates.csv</code> every metric the learner reported for every update (one column per "
                + "metric name, as on the <code>metrics</code> topic); <code>rm-trainer.log</code> is the reward-model "
                + "trainer's log.</p>\n</body></html>\n");
        return h.toString();
    }

    /**
     * The per-version table as CSV: {@code version,scored,gold,raw_rm_score,reward,tokens,first_scored_s,published_s};
     * {@code published_s} is empty for the starting version and for a version seen scored before its record arrived.
     */
    static String versionsCsv(LoopMonitor.Snapshot snap) {
        StringBuilder csv = new StringBuilder("version,scored,gold,raw_rm_score,reward,tokens,first_scored_s,published_s\n");
        for (LoopMonitor.VersionPoint v : snap.versions()) {
            Double published = snap.publishedAt().get(v.version());
            csv.append(v.version()).append(',').append(v.count()).append(',').append(number(v.gold())).append(',')
                    .append(number(v.rawProxy())).append(',').append(number(v.reward())).append(',')
                    .append(number(v.tokens())).append(',').append(number(v.firstSeen())).append(',')
                    .append(published == null ? "" : number(published)).append('\n');
        }
        return csv.toString();
    }

    /**
     * Every learner metric of every update as CSV: an {@code update} column, then one column per metric name in
     * name order (the union over updates); a metric an update did not report is an empty cell.
     */
    static String updatesCsv(SortedMap<Long, Map<String, Double>> learnerMetrics) {
        SortedSet<String> names = new TreeSet<>();
        learnerMetrics.values().forEach(m -> names.addAll(m.keySet()));
        StringBuilder csv = new StringBuilder("update");
        names.forEach(n -> csv.append(',').append(csvField(n)));
        csv.append('\n');
        learnerMetrics.forEach((update, m) -> {
            csv.append(update);
            for (String n : names) {
                Double value = m.get(n);
                csv.append(',').append(value == null ? "" : number(value));
            }
            csv.append('\n');
        });
        return csv.toString();
    }

    /** A finite number as Java prints it (round-trips); NaN and infinities as empty cells. */
    private static String number(double x) {
        return Double.isFinite(x) ? Double.toString(x) : "";
    }

    /** RFC 4180: a field holding a comma, quote or line break is quoted, its quotes doubled. */
    private static String csvField(String s) {
        return s.matches("[^,\"\r\n]*") ? s : '"' + s.replace("\"", "\"\"") + '"';
    }

    private static String row(String label, double gold, double proxy) {
        return String.format(Locale.ROOT, "<tr><td>%s</td><td>%.3f</td><td>%s</td></tr>%n", label, gold,
                Double.isNaN(proxy) ? "–" : String.format(Locale.ROOT, "%+.3f", proxy));
    }

    private static String figure(String label, double value, String pattern) {
        return String.format(Locale.ROOT, "<tr><td>%s</td><td>%s</td></tr>%n", label,
                Double.isNaN(value) ? "–" : String.format(Locale.ROOT, pattern, value));
    }

    private static String count(String label, long n) {
        return String.format(Locale.ROOT, "<tr><td>%s</td><td>%d</td></tr>%n", label, n);
    }
}
