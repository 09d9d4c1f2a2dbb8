package io.streamrlhf.evaluator.report;

import io.streamrlhf.evaluator.metrics.Accuracy;
import io.streamrlhf.evaluator.metrics.PolicyComparison;
import io.streamrlhf.evaluator.metrics.RmComparison;
import io.streamrlhf.evaluator.metrics.RmbEvaluation;
import io.streamrlhf.evaluator.metrics.RmbMetrics;
import io.streamrlhf.evaluator.metrics.ScenarioAccuracy;
import io.streamrlhf.evaluator.rmb.RmbGoal;
import io.streamrlhf.evaluator.rmb.RmbSet;
import java.awt.Color;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.CategoryLabelPositions;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * Writes an evaluation as {@code index.html} with tables and PNG charts drawn by JFreeChart, into a folder:
 *
 * <ul>
 *   <li>{@code goals.png}: the four goal×set accuracies and overall, one bar per source (and the majority vote);</li>
 *   <li>{@code scenarios.png}: accuracy per scenario ({@code category_path});</li>
 *   <li>{@code policies.png}: mean reward and mean gold reward by policy version (replays of generations/scored);</li>
 *   <li>{@code reward-models.png}: each scorer version's accuracy on the shared gold pairs, or its mean score.</li>
 * </ul>
 *
 * Charts are drawn off-screen ({@code java.awt.headless=true}), so this works on servers with no display.
 */
public final class HtmlReport {

    static final int WIDTH = 960;
    static final int HEIGHT = 480;

    private final String title;
    private final List<String> notes = new ArrayList<>();
    private RmbEvaluation rmb;
    private PolicyComparison policies;
    private RmComparison rms;

    /** A report titled {@code title}. */
    public HtmlReport(String title) {
        this.title = title;
    }

    /** Adds the RMB evaluation. */
    public HtmlReport rmb(RmbEvaluation evaluation) {
        this.rmb = evaluation;
        return this;
    }

    /** Adds the policy and reward-model comparisons of a replayed topic ({@code rms} may be null). */
    public HtmlReport comparisons(PolicyComparison policyComparison, RmComparison rmComparison) {
        this.policies = policyComparison;
        this.rms = rmComparison;
        return this;
    }

    /** Adds a line under the title (what was evaluated, with which sources). */
    public HtmlReport note(String line) {
        notes.add(line);
        return this;
    }

    /**
     * Writes {@code index.html} and the charts into {@code dir} (created when missing).
     *
     * @return the files written, page first
     */
    public List<Path> write(Path dir) {
        // Before any AWT class loads: charts render to images, never to a screen.
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true");
        }
        try {
            Files.createDirectories(dir);
            List<Path> charts = new ArrayList<>();
            StringBuilder body = new StringBuilder();
            body.append("<h1>").append(esc(title)).append("</h1>\n");
            for (String note : notes) {
                body.append("<p>").append(esc(note)).append("</p>\n");
            }
            body.append("<p class=\"muted\">Generated ").append(Instant.now()).append("</p>\n");
            if (rmb != null) {
                rmbSection(body, dir, charts);
            }
            if (policies != null) {
                comparisonSection(body, dir, charts);
            }
            Path page = dir.resolve("index.html");
            Files.writeString(page, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>"
                    + esc(title) + "</title>\n<style>body{font-family:sans-serif;max-width:1000px;margin:2em auto}"
                    + "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px}"
                    + "td.num{text-align:right}.muted{color:#777}img{max-width:100%}</style></head><body>\n"
                    + body + "</body></html>\n");
            List<Path> written = new ArrayList<>();
            written.add(page);
            written.addAll(charts);
            return written;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the report to " + dir, e);
        }
    }

    private void rmbSection(StringBuilder body, Path dir, List<Path> charts) throws IOException {
        Map<String, RmbMetrics> evaluators = new LinkedHashMap<>(rmb.bySource());
        if (rmb.majority() != null) {
            evaluators.put("majority", rmb.majority());
        }
        body.append("<h2>RMB</h2>\n<p>Headline: <b>").append(esc(rmb.primaryName())).append("</b>. An item is right "
                + "when the preferred response scores strictly above every other (ties are wrong); overall is the "
                + "mean of the goal×set figures present.</p>\n");
        body.append("<table><tr><th>evaluator</th><th>pairwise</th><th>n</th><th>Best-of-N</th><th>n</th>");
        for (RmbGoal goal : List.of(RmbGoal.HELPFULNESS, RmbGoal.HARMLESSNESS)) {
            for (RmbSet set : RmbSet.values()) {
                body.append("<th>").append(goal.label()).append(' ').append(set.label()).append("</th>");
            }
        }
        body.append("<th>overall</th></tr>\n");
        DefaultCategoryDataset goals = new DefaultCategoryDataset();
        for (Map.Entry<String, RmbMetrics> e : evaluators.entrySet()) {
            RmbMetrics m = e.getValue();
            body.append("<tr><td>").append(esc(e.getKey())).append("</td>")
                    .append(num(m.pairwise().accuracy())).append(count(m.pairwise()))
                    .append(num(m.bon().accuracy())).append(count(m.bon()));
            for (RmbGoal goal : List.of(RmbGoal.HELPFULNESS, RmbGoal.HARMLESSNESS)) {
                for (RmbSet set : RmbSet.values()) {
                    Accuracy a = m.of(goal, set);
                    body.append(num(a.accuracy()));
                    if (a.n() > 0) {
                        goals.addValue(a.accuracy(), e.getKey(), goal.label() + " " + set.label());
                    }
                }
            }
            body.append(num(m.overall())).append("</tr>\n");
            if (Double.isFinite(m.overall())) {
                goals.addValue(m.overall(), e.getKey(), "overall");
            }
        }
        body.append("</table>\n");
        charts.add(bar(dir, "goals.png", "RMB accuracy by goal and set", "", goals, false));
        body.append("<img src=\"goals.png\" alt=\"accuracy by goal and set\">\n");

        body.append("<h3>By scenario</h3>\n<table><tr><th>set</th><th>category_path</th><th>goal</th><th>n</th>");
        evaluators.keySet().forEach(k -> body.append("<th>").append(esc(k)).append("</th>"));
        body.append("</tr>\n");
        DefaultCategoryDataset scenarios = new DefaultCategoryDataset();
        RmbMetrics first = evaluators.values().iterator().next();
        for (int s = 0; s < first.byScenario().size(); s++) {
            ScenarioAccuracy row = first.byScenario().get(s);
            body.append("<tr><td>").append(row.set().label()).append("</td><td>").append(esc(row.categoryPath()))
                    .append("</td><td>").append(row.goal().label()).append("</td>").append(count(row.accuracy()));
            for (Map.Entry<String, RmbMetrics> e : evaluators.entrySet()) {
                ScenarioAccuracy mine = e.getValue().byScenario().get(s);
                body.append(num(mine.accuracy().accuracy()));
                scenarios.addValue(mine.accuracy().accuracy(), e.getKey(), row.categoryPath());
            }
            body.append("</tr>\n");
        }
        body.append("</table>\n");
        // Horizontal bars: scenario paths are long, and RMB has 49 scenarios per set, so the chart grows downwards.
        JFreeChart byScenario = ChartFactory.createBarChart("RMB accuracy by scenario", "", "accuracy", scenarios,
                PlotOrientation.HORIZONTAL, true, false, false);
        style(byScenario);
        byScenario.getCategoryPlot().getDomainAxis().setMaximumCategoryLabelWidthRatio(0.45f);
        int rows = scenarios.getColumnCount() * Math.max(1, scenarios.getRowCount());
        charts.add(save(dir, "scenarios.png", byScenario, WIDTH, Math.max(HEIGHT, 90 + 18 * rows)));
        body.append("<img src=\"scenarios.png\" alt=\"accuracy by scenario\">\n");
    }

    private void comparisonSection(StringBuilder body, Path dir, List<Path> charts) throws IOException {
        body.append("<h2>Policies</h2>\n<table><tr><th>policy</th><th>version</th><th>n</th><th>reward mean</th>"
                + "<th>reward std</th><th>gold mean</th><th>response tokens</th></tr>\n");
        Map<String, XYSeries> reward = new LinkedHashMap<>();
        Map<String, XYSeries> gold = new LinkedHashMap<>();
        for (PolicyComparison.Row row : policies.rows()) {
            body.append("<tr><td>").append(esc(row.policyName())).append("</td><td class=\"num\">")
                    .append(row.policyVersion()).append("</td><td class=\"num\">").append(row.n()).append("</td>")
                    .append(num(row.rewardMean())).append(num(row.rewardStd())).append(num(row.goldMean()))
                    .append(num(row.responseTokensMean())).append("</tr>\n");
            if (Double.isFinite(row.rewardMean())) {
                reward.computeIfAbsent(row.policyName(), n -> new XYSeries(n + " reward"))
                        .add(row.policyVersion(), row.rewardMean());
            }
            if (Double.isFinite(row.goldMean())) {
                gold.computeIfAbsent(row.policyName(), n -> new XYSeries(n + " gold"))
                        .add(row.policyVersion(), row.goldMean());
            }
        }
        body.append("</table>\n");
        XYSeriesCollection series = new XYSeriesCollection();
        reward.values().forEach(series::addSeries);
        gold.values().forEach(series::addSeries);
        JFreeChart chart = ChartFactory.createXYLineChart("Reward by policy version", "policy version", "mean",
                series, PlotOrientation.VERTICAL, true, false, false);
        chart.getXYPlot().setBackgroundPaint(Color.WHITE);
        chart.getXYPlot().setDomainGridlinePaint(Color.LIGHT_GRAY);
        chart.getXYPlot().setRangeGridlinePaint(Color.LIGHT_GRAY);
        if (chart.getXYPlot().getRenderer() instanceof XYLineAndShapeRenderer lines) {
            lines.setDefaultShapesVisible(true);
        }
        charts.add(save(dir, "policies.png", chart));
        body.append("<img src=\"policies.png\" alt=\"reward by policy version\">\n");

        if (rms != null && !rms.rows().isEmpty()) {
            body.append("<h2>Reward models side by side</h2>\n<p>").append(rms.sharedPairs())
                    .append(" same-prompt pairs with different gold rewards were scored by every model.</p>\n")
                    .append("<table><tr><th>scorer</th><th>n</th><th>mean raw score</th><th>gold-pair accuracy</th>"
                            + "</tr>\n");
            DefaultCategoryDataset data = new DefaultCategoryDataset();
            boolean withGold = rms.sharedPairs() > 0;
            for (RmComparison.Row row : rms.rows()) {
                body.append("<tr><td>").append(esc(row.label())).append("</td><td class=\"num\">").append(row.n())
                        .append("</td>").append(num(row.scoreMean())).append(num(row.goldPairs().accuracy()))
                        .append("</tr>\n");
                double value = withGold ? row.goldPairs().accuracy() : row.scoreMean();
                if (Double.isFinite(value)) {
                    data.addValue(value, withGold ? "gold-pair accuracy" : "mean raw score", row.label());
                }
            }
            body.append("</table>\n");
            charts.add(bar(dir, "reward-models.png", withGold ? "Accuracy on gold pairs" : "Mean raw score", "", data,
                    rms.rows().size() > 6));
            body.append("<img src=\"reward-models.png\" alt=\"reward models side by side\">\n");
        }
    }

    private static Path bar(Path dir, String file, String chartTitle, String axis, DefaultCategoryDataset data,
                            boolean slantedLabels) throws IOException {
        JFreeChart chart = ChartFactory.createBarChart(chartTitle, axis, "", data, PlotOrientation.VERTICAL, true,
                false, false);
        style(chart);
        if (slantedLabels) {
            chart.getCategoryPlot().getDomainAxis().setCategoryLabelPositions(CategoryLabelPositions.UP_45);
        }
        return save(dir, file, chart);
    }

    private static void style(JFreeChart chart) {
        CategoryPlot plot = chart.getCategoryPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        // "helpfulness pairwise" and the like wrap instead of being cut short.
        plot.getDomainAxis().setMaximumCategoryLabelLines(3);
        if (plot.getRenderer() instanceof BarRenderer bars) {
            bars.setBarPainter(new StandardBarPainter());
            bars.setShadowVisible(false);
        }
    }

    private static Path save(Path dir, String file, JFreeChart chart) throws IOException {
        return save(dir, file, chart, WIDTH, HEIGHT);
    }

    private static Path save(Path dir, String file, JFreeChart chart, int width, int height) throws IOException {
        Path out = dir.resolve(file);
        ChartUtils.saveChartAsPNG(out.toFile(), chart, width, height);
        return out;
    }

    private static String num(double v) {
        return "<td class=\"num\">" + (Double.isFinite(v) ? String.format(Locale.ROOT, "%.4f", v) : "–") + "</td>";
    }

    private static String count(Accuracy a) {
        return "<td class=\"num\">" + a.n() + "</td>";
    }

    /** HTML-escapes text; the five characters that matter in element content and attributes. */
    static String esc(String text) {
        StringBuilder out = new StringBuilder(text.length());
        for (char c : text.toCharArray()) {
            switch (c) {
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '&' -> out.append("&amp;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> out.append(c);
            }
        }
        return out.toString();
    }
}
