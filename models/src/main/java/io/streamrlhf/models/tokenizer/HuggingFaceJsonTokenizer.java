package io.streamrlhf.models.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * A Hugging Face {@code tokenizer.json} (any model type the tokenizers library supports), loaded
 * from a local file only (no hub download) through DJL's tokenizers binding.
 *
 * <p>The library does not expose the id table, so this class reads it from the same JSON
 * ({@code model.vocab} and {@code added_tokens}) to answer {@link #vocabSize()} and
 * {@link #token(int)} and to resolve the special tokens by name.
 */
public final class HuggingFaceJsonTokenizer implements Tokenizer, AutoCloseable {

    private final HuggingFaceTokenizer tokenizer;
    private final Map<Integer, String> byId;
    private final Map<String, Integer> byToken;
    private final int vocabSize;
    private final int bos;
    private final int eos;
    private final int pad;

    private HuggingFaceJsonTokenizer(HuggingFaceTokenizer tokenizer, Map<Integer, String> byId,
                                     Map<String, Integer> byToken, int bos, int eos, int pad) {
        this.tokenizer = tokenizer;
        this.byId = byId;
        this.byToken = byToken;
        this.vocabSize = byId.keySet().stream().mapToInt(Integer::intValue).max().orElse(-1) + 1;
        this.bos = bos;
        this.eos = eos;
        this.pad = pad;
    }

    /**
     * Loads {@code tokenizer.json} (a file, or a directory holding one).
     *
     * @param bosToken name of the beginning-of-sequence token in the vocabulary (e.g. "&lt;s&gt;")
     * @param eosToken name of the end-of-sequence token
     * @param padToken name of the padding token
     */
    public static HuggingFaceJsonTokenizer load(Path file, String bosToken, String eosToken, String padToken) {
        Path json = Files.isDirectory(file) ? file.resolve("tokenizer.json") : file;
        if (!Files.isRegularFile(json)) {
            throw new IllegalArgumentException("tokenizer file " + json + " does not exist");
        }
        Map<Integer, String> byId = new HashMap<>();
        Map<String, Integer> byToken = new HashMap<>();
        try {
            JsonNode root = new ObjectMapper().readTree(json.toFile());
            JsonNode vocab = root.path("model").path("vocab");
            if (vocab.isObject()) {  // WordLevel, WordPiece, BPE
                for (Iterator<Map.Entry<String, JsonNode>> it = vocab.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> e = it.next();
                    byId.put(e.getValue().asInt(), e.getKey());
                    byToken.put(e.getKey(), e.getValue().asInt());
                }
            } else if (vocab.isArray()) {  // Unigram: [[piece, score], ...]
                for (int i = 0; i < vocab.size(); i++) {
                    byId.put(i, vocab.get(i).get(0).asText());
                    byToken.put(vocab.get(i).get(0).asText(), i);
                }
            } else {
                throw new IllegalArgumentException("tokenizer file " + json + " has no model.vocab");
            }
            for (JsonNode added : root.path("added_tokens")) {
                byId.put(added.path("id").asInt(), added.path("content").asText());
                byToken.put(added.path("content").asText(), added.path("id").asInt());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read tokenizer file " + json, e);
        }
        int bos = special(byToken, bosToken, "BOS", json);
        int eos = special(byToken, eosToken, "EOS", json);
        int pad = special(byToken, padToken, "PAD", json);
        try {
            // addSpecialTokens=false: the Tokenizer contract encodes text only, BOS/EOS are the caller's. DJL truncates
            // (to 512 tokens) and pads unless told not to; a scorer must see the whole response, as HF encodes it.
            HuggingFaceTokenizer hf = HuggingFaceTokenizer.newInstance(json, Map.of("addSpecialTokens", "false",
                    "truncation", "false", "padding", "false"));
            return new HuggingFaceJsonTokenizer(hf, byId, byToken, bos, eos, pad);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot load tokenizer file " + json, e);
        }
    }

    private static int special(Map<String, Integer> byToken, String name, String role, Path json) {
        Integer id = byToken.get(name);
        if (id == null) {
            throw new IllegalArgumentException(role + " token '" + name + "' is not in the vocabulary of " + json);
        }
        return id;
    }

    @Override
    public int[] encode(String text) {
        long[] ids = tokenizer.encode(text, false, false).getIds();
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            out[i] = Math.toIntExact(ids[i]);
        }
        return out;
    }

    @Override
    public String decode(int[] ids) {
        long[] l = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= vocabSize) {
                throw new IllegalArgumentException("id " + ids[i] + " is outside the vocabulary [0, " + vocabSize + ")");
            }
            l[i] = ids[i];
        }
        return tokenizer.decode(l, true);
    }

    @Override
    public int vocabSize() {
        return vocabSize;
    }

    @Override
    public int bosId() {
        return bos;
    }

    @Override
    public int eosId() {
        return eos;
    }

    @Override
    public int padId() {
        return pad;
    }

    @Override
    public String token(int id) {
        String t = byId.get(id);
        if (t == null) {
            throw new IllegalArgumentException("id " + id + " is outside the vocabulary [0, " + vocabSize + ")");
        }
        return t;
    }

    /** The id of a token string, if the vocabulary holds it. */
    public Integer id(String token) {
        return byToken.get(token);
    }

    /** Frees the native tokenizer. */
    @Override
    public void close() {
        tokenizer.close();
    }
}
