package io.streamrlhf.cli.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.streamrlhf.cli.EncoderRmTraining;
import io.streamrlhf.evaluator.rmb.RmbItem;
import io.streamrlhf.evaluator.rmb.RmbResponse;
import io.streamrlhf.learner.rm.RmMethod;
import io.streamrlhf.learner.rm.embed.EmbeddingRmTrainer;
import io.streamrlhf.models.encoder.MiniLm;
import io.streamrlhf.models.encoder.RewardHeads;
import java.nio.file.Path;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code rlhf bench encoder-rm}: reward heads on all-MiniLM-L6-v2 measured on RMB with every scenario held out in
 * turn (trained on the other scenarios' pairwise and Best-of-N items, evaluated on the held-out one), against the
 * length rule and chance on the same items. Every text is embedded once. The last line is
 * {@code {"pairwise_acc":..., "bon_acc":..., "length_pairwise_acc":..., "length_bon_acc":..., "chance_pairwise":...,
 * "chance_bon":..., "items":..., "scenarios":{...}, "embed_s":..., "train_s":...}}; each scenario's entry also gives
 * the accuracy on the items the heads were trained on ({@code train_pairwise_acc}, {@code train_bon_acc}).
 */
@Command(name = "encoder-rm", mixinStandardHelpOptions = true,
        description = "RMB accuracy of reward heads on frozen all-MiniLM-L6-v2 embeddings, each scenario held out in "
                + "turn, against the length rule and chance.")
public final class BenchEncoderRmCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Option(names = "--rmb", paramLabel = "PATH", required = true, split = ",",
            description = "RMB JSON files or folders (e.g. ../shared/rmb).")
    List<Path> rmb;

    @Option(names = "--method", paramLabel = "M", defaultValue = "bt",
            description = "Training method: bt, flip, smooth, margin, joined by '+'. Default: ${DEFAULT-VALUE}.")
    String method;

    @Option(names = "--heads", paramLabel = "N", defaultValue = "4", description = "Heads. Default: ${DEFAULT-VALUE}.")
    int heads;

    @Option(names = "--limit", paramLabel = "N", description = "At most N items of each scenario (quick runs).")
    Integer limit;

    @Option(names = "--threads", paramLabel = "N", defaultValue = "0",
            description = "ONNX Runtime threads; 0 uses every core. Default: ${DEFAULT-VALUE}.")
    int threads;

    @Option(names = "--split", paramLabel = "HOW", defaultValue = "scenario",
            description = "What is held out: 'scenario' (each RMB scenario in turn, trained on the others) or "
                    + "'prompt' (five folds of the prompts across every scenario, reported per scenario). "
                    + "Default: ${DEFAULT-VALUE}.")
    String splitName;

    @Option(names = "--json", description = "Print only the JSON line.")
    boolean json;

    private Split split;

    private static final int PROMPT_FOLDS = 5;

    /** What a fold holds out. */
    private enum Split { SCENARIO, PROMPT }

    @Spec CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        RmMethod m = RmMethod.parse(method);
        split = switch (splitName) {
            case "scenario" -> Split.SCENARIO;
            case "prompt" -> Split.PROMPT;
            default -> throw new CommandLine.ParameterException(spec.commandLine(), "--split " + splitName
                    + ": expected 'scenario' or 'prompt'");
        };
        EmbeddingRmTrainer.check(m);
        PrintWriter out = spec.commandLine().getOut();
        List<RmbItem> items = limited(EncoderRmTraining.readRmb(rmb));
        TreeSet<String> scenarios = new TreeSet<>();
        items.forEach(i -> scenarios.add(EncoderRmTraining.scenario(i)));
        if (split == Split.SCENARIO && scenarios.size() < 2) {
            throw new IllegalArgumentException("--rmb " + rmb + " holds " + scenarios.size() + " scenario(s); holding "
                    + "one out needs at least two");
        }
        long t0 = System.nanoTime();
        Map<String, float[]> embeddings = new LinkedHashMap<>();
        try (MiniLm encoder = MiniLm.load(threads)) {
            List<String> texts = new ArrayList<>(new java.util.LinkedHashSet<>(allTexts(items)));
            float[][] e = encoder.embed(texts);
            for (int i = 0; i < texts.size(); i++) {
                embeddings.put(texts.get(i), e[i]);
            }
        }
        double embedS = (System.nanoTime() - t0) / 1e9;
        long t1 = System.nanoTime();
        int[] heldTotals = new int[4];
        int[] lengthTotals = new int[4];
        Map<String, int[][]> byScenario = new LinkedHashMap<>();  // scenario -> {heads, length} x 4 counts
        scenarios.forEach(sc -> byScenario.put(sc, new int[2][4]));
        Map<String, Object> fits = new LinkedHashMap<>();
        EmbeddingRmTrainer.Settings settings = new EmbeddingRmTrainer.Settings(heads,
                EmbeddingRmTrainer.Settings.DEFAULT.epochs(), EmbeddingRmTrainer.Settings.DEFAULT.lr(),
                EmbeddingRmTrainer.Settings.DEFAULT.l2(), EmbeddingRmTrainer.Settings.DEFAULT.seed());
        for (Map.Entry<String, List<RmbItem>> fold : folds(items, scenarios).entrySet()) {
            List<RmbItem> test = fold.getValue();
            java.util.Set<RmbItem> held = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
            held.addAll(test);
            List<RmbItem> train = items.stream().filter(i -> !held.contains(i)).toList();
            RewardHeads trained = EmbeddingRmTrainer.train(features(train, embeddings), m, settings, "rm-minilm");
            List<double[]> testScores = scores(test, trained, embeddings);
            List<double[]> lengthScores = EncoderRmTraining.lengthScores(test);
            for (int i = 0; i < test.size(); i++) {
                int[][] counts = byScenario.get(EncoderRmTraining.scenario(test.get(i)));
                add(counts[0], EncoderRmTraining.accuracy(List.of(test.get(i)), List.of(testScores.get(i))));
                add(counts[1], EncoderRmTraining.accuracy(List.of(test.get(i)), List.of(lengthScores.get(i))));
            }
            int[] fit = EncoderRmTraining.accuracy(train, scores(train, trained, embeddings));
            Map<String, Object> f = new LinkedHashMap<>();
            f.put("train_pairs", EncoderRmTraining.pairs(train).size());
            f.put("train_pairwise_acc", ratio(fit[0], fit[1]));
            f.put("train_bon_acc", ratio(fit[2], fit[3]));
            fits.put(fold.getKey(), f);
        }
        Map<String, Object> perScenario = new LinkedHashMap<>();
        for (Map.Entry<String, int[][]> e : byScenario.entrySet()) {
            int[] acc = e.getValue()[0];
            int[] len = e.getValue()[1];
            add(heldTotals, acc);
            add(lengthTotals, len);
            double[] chance = EncoderRmTraining.chance(items.stream()
                    .filter(i -> EncoderRmTraining.scenario(i).equals(e.getKey())).toList());
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("pairwise_acc", ratio(acc[0], acc[1]));
            row.put("bon_acc", ratio(acc[2], acc[3]));
            row.put("length_pairwise_acc", ratio(len[0], len[1]));
            row.put("length_bon_acc", ratio(len[2], len[3]));
            row.put("chance_pairwise", chance[0]);
            row.put("chance_bon", chance[1]);
            row.put("pairwise_items", acc[1]);
            row.put("bon_items", acc[3]);
            if (split == Split.SCENARIO) {
                row.putAll(castMap(fits.get(e.getKey())));  // the heads of this fold were trained on the others
            }
            perScenario.put(e.getKey(), row);
            if (!json) {
                out.printf(Locale.ROOT, "held out %-45s pairwise %s (length %s, chance %.2f)  best-of-n %s "
                        + "(length %s, chance %.2f)%n", e.getKey(), fmt(acc[0], acc[1]), fmt(len[0], len[1]),
                        chance[0], fmt(acc[2], acc[3]), fmt(len[2], len[3]), chance[1]);
            }
        }
        double[] chance = EncoderRmTraining.chance(items);
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("pairwise_acc", ratio(heldTotals[0], heldTotals[1]));
        result.put("bon_acc", ratio(heldTotals[2], heldTotals[3]));
        result.put("length_pairwise_acc", ratio(lengthTotals[0], lengthTotals[1]));
        result.put("length_bon_acc", ratio(lengthTotals[2], lengthTotals[3]));
        result.put("chance_pairwise", chance[0]);
        result.put("chance_bon", chance[1]);
        result.put("items", items.size());
        result.put("method", m.name());
        result.put("heads", heads);
        result.put("encoder", MiniLm.NAME);
        result.put("split", split.name().toLowerCase(Locale.ROOT));
        result.put("scenarios", perScenario);
        if (split == Split.PROMPT) {
            result.put("folds", fits);
        }
        result.put("embed_s", embedS);
        result.put("train_s", (System.nanoTime() - t1) / 1e9);
        out.println(JSON.writeValueAsString(result));
        out.flush();
        return 0;
    }

    /**
     * The held-out sets: each scenario in turn ({@code scenario}), or five folds of the prompts ({@code prompt}: a
     * prompt's items, pairwise and Best-of-N alike, fall in one fold by a hash of its text, so no prompt is both
     * trained on and evaluated).
     */
    private Map<String, List<RmbItem>> folds(List<RmbItem> items, java.util.SortedSet<String> scenarios) {
        Map<String, List<RmbItem>> folds = new LinkedHashMap<>();
        if (split == Split.SCENARIO) {
            for (String sc : scenarios) {
                folds.put(sc, items.stream().filter(i -> EncoderRmTraining.scenario(i).equals(sc)).toList());
            }
            return folds;
        }
        for (int f = 0; f < PROMPT_FOLDS; f++) {
            int fold = f;
            folds.put("fold-" + f, items.stream()
                    .filter(i -> Math.floorMod(i.promptText().hashCode(), PROMPT_FOLDS) == fold).toList());
        }
        return folds;
    }

    private static void add(int[] into, int[] counts) {
        for (int k = 0; k < into.length; k++) {
            into[k] += counts[k];
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> castMap(Object o) {
        return (Map<String, Object>) o;
    }

    private List<RmbItem> limited(List<RmbItem> items) {
        if (limit == null) {
            return items;
        }
        Map<String, Integer> seen = new LinkedHashMap<>();
        List<RmbItem> out = new ArrayList<>();
        for (RmbItem item : items) {
            String key = item.set() + "/" + EncoderRmTraining.scenario(item);
            if (seen.merge(key, 1, Integer::sum) <= limit) {
                out.add(item);
            }
        }
        return out;
    }

    private static List<String> allTexts(List<RmbItem> items) {
        List<String> texts = new ArrayList<>();
        for (RmbItem item : items) {
            texts.add(item.promptText());
            for (RmbResponse r : item.responses()) {
                texts.add(r.answer());
            }
        }
        return texts;
    }

    private static float[][][] features(List<RmbItem> items, Map<String, float[]> e) {
        List<float[][]> out = new ArrayList<>();
        for (RmbItem item : items) {
            float[] p = e.get(item.promptText());
            float[] best = RewardHeads.features(p, e.get(item.preferred().answer()));
            for (RmbResponse other : item.others()) {
                out.add(new float[][] {best, RewardHeads.features(p, e.get(other.answer()))});
            }
        }
        return out.toArray(new float[0][][]);
    }

    private static List<double[]> scores(List<RmbItem> items, RewardHeads heads, Map<String, float[]> e) {
        List<double[]> out = new ArrayList<>();
        for (RmbItem item : items) {
            float[] p = e.get(item.promptText());
            double[] s = new double[item.responses().size()];
            for (int k = 0; k < s.length; k++) {
                s[k] = heads.score(RewardHeads.features(p, e.get(item.responses().get(k).answer())));
            }
            out.add(s);
        }
        return out;
    }

    private static Double ratio(int right, int total) {
        return total == 0 ? null : (double) right / total;
    }

    private static String fmt(int right, int total) {
        return total == 0 ? "-" : String.format(Locale.ROOT, "%.3f (%d/%d)", (double) right / total, right, total);
    }
}
