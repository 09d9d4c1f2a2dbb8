package io.streamrlhf.models.hf;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.hf.tokenizer.HfTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * What a model folder makes of one sequence: its token ids, their strings, and the log-probability the model gives
 * each next token — the first check that a folder loads as intended ({@code rlhf model inspect}). A reward folder
 * ({@link HfRewardModel}) gives the reward of the whole sequence and no log-probs: it has no next-token
 * distribution.
 *
 * @param ids      the sequence's token ids
 * @param tokens   each id's token string, or null where the folder has no {@code tokenizer.json}
 * @param logprobs {@code logprobs[i]} is the log-probability of {@code ids[i + 1]} given {@code ids[0..i]}; empty
 *                 for a reward model
 * @param reward   the reward-model score of the sequence; null for a causal LM
 */
public record ModelInspection(int[] ids, List<String> tokens, double[] logprobs, Double reward) {

    /**
     * Tokenises {@code text} with the folder's own tokenizer (its special tokens included, as Hugging Face's
     * {@code tokenizer(text)} does) and inspects the ids.
     *
     * @throws HfFormatException naming the file when the folder or its tokenizer is refused
     */
    public static ModelInspection ofText(Path dir, String text) {
        try (HfTokenizer tokenizer = HfTokenizer.load(dir)) {
            int[] ids = tokenizer.encode(text, true);
            return inspect(dir, ids, tokenizer.tokens(ids));
        }
    }

    /** Inspects the given ids; their token strings come from the folder's tokenizer where it has one. */
    public static ModelInspection ofIds(Path dir, int[] ids) {
        if (!Files.exists(dir.resolve(HfTokenizer.TOKENIZER_JSON))) {
            return inspect(dir, ids, null);
        }
        try (HfTokenizer tokenizer = HfTokenizer.load(dir)) {
            return inspect(dir, ids, tokenizer.tokens(ids));
        }
    }

    private static ModelInspection inspect(Path dir, int[] ids, List<String> tokens) {
        if (ids.length == 0) {
            throw new IllegalArgumentException("no tokens to inspect");
        }
        boolean reward = HfRewardModel.isRewardFolder(dir);
        HfModelConfig config = reward ? HfRewardModel.readSettings(dir, ids.length).backbone()
                : HfModelConfig.read(dir, ids.length);
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= config.vocabSize()) {
                throw new HfFormatException(dir.resolve(HfModelConfig.FILE), "token id " + ids[i] + " (position " + i
                        + ") is beyond the embedding: vocab_size is " + config.vocabSize());
            }
        }
        if (ids.length > config.contextLength()) {
            throw new HfFormatException(dir.resolve(HfModelConfig.FILE), ids.length + " tokens exceed the model's "
                    + config.contextLength() + " positions");
        }
        List<String> tokenList = tokens == null ? null : List.copyOf(tokens);
        if (reward) {
            try (HfRewardModel rm = HfRewardModel.load(dir, ids.length, ModelRuntime.device());
                 NDManager step = rm.manager().newSubManager()) {
                double r = rm.rewards(step.create(ids, new Shape(1, ids.length))).getFloat(0);
                return new ModelInspection(ids.clone(), tokenList, new double[0], r);
            }
        }
        try (HfCausalLm lm = HfCausalLm.load(dir, ids.length, ModelRuntime.device());
             NDManager step = lm.manager().newSubManager()) {
            NDArray logits = lm.logits(step.create(ids, new Shape(1, ids.length)));  // (1, T, V)
            float[] logp = logits.logSoftmax(-1).toFloatArray();                   // (1, T, V) flattened
            int v = (int) logits.getShape().get(2);
            double[] logprobs = new double[ids.length - 1];
            for (int i = 0; i + 1 < ids.length; i++) {
                logprobs[i] = logp[i * v + ids[i + 1]];
            }
            return new ModelInspection(ids.clone(), tokenList, logprobs, null);
        }
    }

    /** {@code {"ids":[...], "tokens":[...], "logprobs":[...], "reward":...}}, plus the sum of the log-probs. */
    public ObjectNode json() {
        ObjectNode o = new ObjectMapper().createObjectNode();
        ArrayNode idArray = o.putArray("ids");
        Arrays.stream(ids).forEach(idArray::add);
        if (tokens == null) {
            o.putNull("tokens");
        } else {
            ArrayNode t = o.putArray("tokens");
            tokens.forEach(t::add);
        }
        ArrayNode lp = o.putArray("logprobs");
        Arrays.stream(logprobs).forEach(x -> lp.add(Math.round(x * 1e6) / 1e6));
        if (reward == null) {
            o.putNull("reward");
        } else {
            o.put("reward", reward);
        }
        o.put("logprob_sum", Math.round(Arrays.stream(logprobs).sum() * 1e6) / 1e6);
        return o;
    }

    /**
     * One line per token for people: position, id, token and the log-prob the model gave it; then, for a reward
     * model, a line with the reward.
     */
    public List<String> table() {
        List<String> lines = new ArrayList<>();
        lines.add(String.format(java.util.Locale.ROOT, "%5s %8s  %-24s %10s", "pos", "id", "token", "logprob"));
        for (int i = 0; i < ids.length; i++) {
            String token = tokens == null ? "" : tokens.get(i);
            String lp = i == 0 || i > logprobs.length ? ""  // a reward model has no log-probs
                    : String.format(java.util.Locale.ROOT, "%.4f", logprobs[i - 1]);
            lines.add(String.format(java.util.Locale.ROOT, "%5d %8d  %-24s %10s", i, ids[i], quote(token), lp));
        }
        if (reward != null) {
            lines.add(String.format(java.util.Locale.ROOT, "reward %.6f", reward));
        }
        return lines;
    }

    private static String quote(String token) {
        StringBuilder sb = new StringBuilder("'");
        for (char c : token.toCharArray()) {
            sb.append(c < 0x20 ? String.format(java.util.Locale.ROOT, "\\u%04x", (int) c) : String.valueOf(c));
        }
        return sb.append('\'').toString();
    }
}
