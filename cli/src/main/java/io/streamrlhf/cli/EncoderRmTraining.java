package io.streamrlhf.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streamrlhf.evaluator.rmb.RmbItem;
import io.streamrlhf.evaluator.rmb.RmbReader;
import io.streamrlhf.evaluator.rmb.RmbResponse;
import io.streamrlhf.learner.rm.RmMethod;
import io.streamrlhf.learner.rm.embed.EmbeddingRmTrainer;
import io.streamrlhf.learner.rm.embed.TextPair;
import io.streamrlhf.models.encoder.MiniLm;
import io.streamrlhf.models.encoder.RewardHeads;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Reward heads on the frozen all-MiniLM-L6-v2 encoder: the pairs of RMB folders or a JSONL file, and the accuracy
 * figures {@code rlhf train-rm --encoder minilm} and {@code rlhf bench encoder-rm} print.
 */
public final class EncoderRmTraining {
    /** The one encoder name {@code --encoder} accepts. */
    public static final String MINILM = "minilm";
    private static final ObjectMapper JSON = new ObjectMapper();

    private EncoderRmTraining() {
    }

    /**
     * Embeds {@code train} with the encoder, fits {@code settings.heads()} heads with {@code method}, saves them to
     * {@code outDir} ({@link RewardHeads#FILE}) and prints what was trained, with the training accuracy (and, with
     * {@code json}, one JSON line: encoder, method, heads, pairs, train_accuracy, wall_s, out).
     */
    public static void trainAndSave(List<TextPair> train, RmMethod method, EmbeddingRmTrainer.Settings settings,
                                    String name, Path outDir, int threads, boolean json, PrintWriter out) {
        long start = System.nanoTime();
        try (MiniLm minilm = MiniLm.load(threads)) {
            float[][][] features = EmbeddingRmTrainer.features(minilm, train);
            RewardHeads trained = EmbeddingRmTrainer.train(features, method, settings, name);
            trained.save(outDir);
            int right = 0;
            for (float[][] f : features) {
                right += trained.score(f[0]) > trained.score(f[1]) ? 1 : 0;
            }
            double wall = (System.nanoTime() - start) / 1e9;
            double acc = (double) right / features.length;
            out.printf(Locale.ROOT, "trained %d %s head(s) (%s) on %d pairs in %.1f s; training accuracy %.3f; "
                    + "wrote %s%n", trained.size(), MiniLm.NAME, method.name(), train.size(), wall, acc,
                    outDir.resolve(RewardHeads.FILE));
            out.println("score with: embed:" + outDir);
            if (json) {
                Map<String, Object> summary = new LinkedHashMap<>();
                summary.put("encoder", MiniLm.NAME);
                summary.put("method", method.name());
                summary.put("heads", trained.size());
                summary.put("pairs", train.size());
                summary.put("train_accuracy", acc);
                summary.put("wall_s", wall);
                summary.put("out", outDir.toString());
                try {
                    out.println(JSON.writeValueAsString(summary));
                } catch (JsonProcessingException e) {
                    throw new IllegalStateException(e);
                }
            }
        }
    }

    /** RMB's scenario of an item: its category path without the set's folder. */
    public static String scenario(RmbItem item) {
        String path = item.categoryPath();
        int slash = path.indexOf('/');
        return slash < 0 ? path : path.substring(slash + 1);
    }

    /** Training pairs from RMB items: a pairwise item's (chosen, rejected), a Best-of-N item's best against each loser. */
    public static List<TextPair> pairs(List<RmbItem> items) {
        List<TextPair> out = new ArrayList<>();
        for (RmbItem item : items) {
            String prompt = item.promptText();
            for (RmbResponse other : item.others()) {
                out.add(new TextPair(prompt, item.preferred().answer(), other.answer(), scenario(item)));
            }
        }
        return out;
    }

    /** The items of every RMB file or folder in {@code paths}. */
    public static List<RmbItem> readRmb(List<Path> paths) {
        List<RmbItem> items = new ArrayList<>();
        for (Path p : paths) {
            items.addAll(RmbReader.read(p).items());
        }
        return items;
    }

    /**
     * RMB accuracy of a scorer: an item is right when its preferred response scores strictly above every other one.
     *
     * @param scores per item, per response (preferred first)
     * @return {@code [pairwise right, pairwise total, best-of-n right, best-of-n total]}
     */
    public static int[] accuracy(List<RmbItem> items, List<double[]> scores) {
        int[] out = new int[4];
        for (int i = 0; i < items.size(); i++) {
            double[] s = scores.get(i);
            boolean right = true;
            for (int k = 1; k < s.length; k++) {
                right &= s[0] > s[k];
            }
            int base = items.get(i).set() == io.streamrlhf.evaluator.rmb.RmbSet.PAIRWISE ? 0 : 2;
            out[base] += right ? 1 : 0;
            out[base + 1]++;
        }
        return out;
    }

    /** The length rule's scores (Unicode code points), the baseline every figure is reported against. */
    public static List<double[]> lengthScores(List<RmbItem> items) {
        List<double[]> out = new ArrayList<>(items.size());
        for (RmbItem item : items) {
            double[] s = new double[item.responses().size()];
            for (int k = 0; k < s.length; k++) {
                String a = item.responses().get(k).answer();
                s[k] = a.codePointCount(0, a.length());
            }
            out.add(s);
        }
        return out;
    }

    /** Chance of being right on each set: 1/2 on a pair, 1/N on a Best-of-N item (averaged over the items). */
    public static double[] chance(List<RmbItem> items) {
        double pairwise = 0;
        double bon = 0;
        int nb = 0;
        int np = 0;
        for (RmbItem item : items) {
            if (item.set() == io.streamrlhf.evaluator.rmb.RmbSet.PAIRWISE) {
                pairwise += 0.5;
                np++;
            } else {
                bon += 1.0 / item.responses().size();
                nb++;
            }
        }
        return new double[] {np == 0 ? Double.NaN : pairwise / np, nb == 0 ? Double.NaN : bon / nb};
    }
}
