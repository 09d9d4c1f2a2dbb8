package io.streamrlhf.models.hf.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streamrlhf.models.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The tokenizer of a Hugging Face model folder: {@code tokenizer.json} encoded and decoded by the Rust tokenizers
 * library through DJL's binding, with the special tokens, {@code add_bos_token}/{@code add_eos_token},
 * {@code clean_up_tokenization_spaces} and chat template of {@code tokenizer_config.json} and the end-of-sequence
 * ids of {@code generation_config.json}.
 *
 * <p>It implements the project's {@link Tokenizer} contract, so the components written against it take a Hugging
 * Face model unchanged: {@link #encode(String)} adds no special tokens, {@link #decode(int[])} skips them. Where a
 * model declares no BOS (Qwen2) {@link #bosId()} is its EOS, and where it declares no padding token (GPT-2, Llama)
 * {@link #padId()} is its EOS, as the models' own {@code config.json} and common practice do; whether the model's
 * own encoding starts with a BOS is {@link #encode(String, boolean)} with special tokens.
 *
 * <p>Offline: DJL's tokenizers library loads its native code from the jar, but on a machine with CUDA it first
 * looks for a CUDA build to download, and its first use pings a telemetry address; {@link #load} sets
 * {@code ai.djl.offline=true} (unless the user set it or {@code DJL_OFFLINE}) so neither happens, as
 * {@code ModelRuntime} does for the PyTorch engine.
 */
public final class HfTokenizer implements Tokenizer, AutoCloseable {

    /** The tokenizer file of a model folder. */
    public static final String TOKENIZER_JSON = "tokenizer.json";

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path folder;
    private final HuggingFaceTokenizer tokenizer;
    private final HfTokenizerConfig config;
    private final String[] tokens;
    private final Map<String, Integer> ids;
    private final int bos;
    private final int eos;
    private final int pad;
    private final Integer declaredBos;
    private final Integer declaredEos;
    private final int[] stopIds;
    private final ChatTemplate chatTemplate;

    private HfTokenizer(Path folder, HuggingFaceTokenizer tokenizer, HfTokenizerConfig config, String[] tokens,
                        Map<String, Integer> ids) {
        this.folder = folder;
        this.tokenizer = tokenizer;
        this.config = config;
        this.tokens = tokens;
        this.ids = ids;
        Path configFile = folder.resolve(HfTokenizerConfig.TOKENIZER_CONFIG);
        this.declaredBos = idOf(config.bosToken(), "bos_token", configFile);
        this.declaredEos = idOf(config.eosToken(), "eos_token", configFile);
        Integer declaredPad = idOf(config.padToken(), "pad_token", configFile);
        idOf(config.unkToken(), "unk_token", configFile);
        Path generationFile = folder.resolve(HfTokenizerConfig.GENERATION_CONFIG);
        for (int id : config.generationEosTokenIds()) {
            if (id < 0 || id >= tokens.length || tokens[id] == null) {
                throw new TokenizerFileException(generationFile, "eos_token_id " + id + " is not in the vocabulary of "
                        + folder.resolve(TOKENIZER_JSON));
            }
        }
        if (declaredEos != null) {
            this.eos = declaredEos;
        } else if (!config.generationEosTokenIds().isEmpty()) {
            this.eos = config.generationEosTokenIds().get(0);
        } else {
            throw new TokenizerFileException(configFile, "declares no eos_token, and " + generationFile
                    + " no eos_token_id: a sampler could not tell where a response ends");
        }
        this.bos = declaredBos != null ? declaredBos : eos;
        this.pad = declaredPad != null ? declaredPad : eos;
        Set<Integer> stops = new LinkedHashSet<>();
        stops.add(eos);
        stops.addAll(config.generationEosTokenIds());
        this.stopIds = stops.stream().mapToInt(Integer::intValue).toArray();
        Map<String, String> specialTokens = new HashMap<>();
        putIfPresent(specialTokens, "bos_token", config.bosToken());
        putIfPresent(specialTokens, "eos_token", config.eosToken());
        putIfPresent(specialTokens, "pad_token", config.padToken());
        putIfPresent(specialTokens, "unk_token", config.unkToken());
        this.chatTemplate = config.chatTemplate() == null ? PlainTextChatTemplate.INSTANCE
                : JinjaChatTemplate.parse(config.chatTemplate(), config.chatTemplateFile(), specialTokens);
    }

    /**
     * Loads the tokenizer of a model folder.
     *
     * @param folder a folder with {@code tokenizer.json}, and optionally {@code tokenizer_config.json},
     *               {@code chat_template.jinja} and {@code generation_config.json}
     * @throws TokenizerFileException naming the file, if one is missing, malformed or inconsistent
     */
    public static HfTokenizer load(Path folder) {
        Path json = folder.resolve(TOKENIZER_JSON);
        if (!Files.isRegularFile(json)) {
            throw new TokenizerFileException(json, "does not exist: a Hugging Face model folder needs its "
                    + TOKENIZER_JSON + " (the fast tokenizer's file)");
        }
        HfTokenizerConfig config = HfTokenizerConfig.read(folder);
        Map<String, Integer> ids = new HashMap<>();
        String[] tokens = readTokenTable(json, config, ids);
        requireOffline();
        HuggingFaceTokenizer tokenizer;
        try (InputStream in = Files.newInputStream(json)) {
            // tokenizer.json alone: the fast tokenizer's behaviour is all in it; tokenizer_config.json's settings
            // are applied here (special tokens, cleanup) rather than by DJL's reader of that file, which also
            // re-applies in Java settings (prefix space, lower-casing) that tokenizer.json already encodes.
            // DJL truncates to 512 tokens and may pad unless told not to; Hugging Face does neither by default,
            // and a prompt's length is the caller's to manage.
            tokenizer = HuggingFaceTokenizer.newInstance(in, Map.of("truncation", "false", "padding", "false"));
        } catch (IOException | RuntimeException e) {
            throw new TokenizerFileException(json, "the tokenizers library cannot load it: " + e.getMessage(), e);
        }
        try {
            return new HfTokenizer(folder, tokenizer, config, tokens, ids);
        } catch (RuntimeException e) {
            tokenizer.close();
            throw e;
        }
    }

    /**
     * Loads the tokenizer from a model's files by name ({@code tokenizer.json} and the optional files {@link #load}
     * reads), as a Hugging Face policy checkpoint carries them. The tokenizers library reads files, so they are
     * written to a temporary folder, which is removed once the tokenizer is loaded (it needs none of them after).
     *
     * @throws TokenizerFileException naming the file, if one is missing, malformed or inconsistent
     */
    public static HfTokenizer fromFiles(Map<String, byte[]> files) {
        Path dir;
        try {
            dir = Files.createTempDirectory("rlhf-tokenizer-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a folder for the tokenizer files", e);
        }
        try {
            for (Map.Entry<String, byte[]> f : files.entrySet()) {
                Files.write(dir.resolve(f.getKey()), f.getValue());
            }
            return load(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the tokenizer files to " + dir, e);
        } finally {
            try (Stream<Path> walk = Files.walk(dir)) {
                walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (IOException ignored) {
                // a temporary folder left behind holds only copies of the model's files
            }
        }
    }

    /**
     * The id table of {@code tokenizer.json} ({@code model.vocab} and {@code added_tokens}) and of
     * {@code added_tokens_decoder}; DJL's binding does not expose it, and {@link #token(int)} needs it.
     */
    private static String[] readTokenTable(Path json, HfTokenizerConfig config, Map<String, Integer> ids) {
        JsonNode root;
        try {
            root = JSON.readTree(json.toFile());
        } catch (JsonProcessingException e) {
            throw new TokenizerFileException(json, "is not valid JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new TokenizerFileException(json, "cannot be read", e);
        }
        Map<Integer, String> byId = new HashMap<>();
        JsonNode vocab = root == null ? null : root.path("model").path("vocab");
        if (vocab != null && vocab.isObject()) {  // BPE, WordPiece, WordLevel: {token: id}
            for (Iterator<Map.Entry<String, JsonNode>> it = vocab.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                byId.put(e.getValue().asInt(), e.getKey());
            }
        } else if (vocab != null && vocab.isArray()) {  // Unigram: [[piece, score], ...], the id is the index
            for (int i = 0; i < vocab.size(); i++) {
                byId.put(i, vocab.get(i).path(0).asText());
            }
        } else {
            throw new TokenizerFileException(json, "has no model.vocab");
        }
        for (JsonNode added : root.path("added_tokens")) {
            byId.put(added.path("id").asInt(), added.path("content").asText());
        }
        Path configFile = json.resolveSibling(HfTokenizerConfig.TOKENIZER_CONFIG);
        for (Map.Entry<Integer, String> e : config.addedTokensDecoder().entrySet()) {
            String known = byId.get(e.getKey());
            if (known != null && !known.equals(e.getValue())) {
                throw new TokenizerFileException(configFile, "added_tokens_decoder gives id " + e.getKey() + " to '"
                        + e.getValue() + "' but " + json + " gives it to '" + known + "'");
            }
            if (known == null) {
                throw new TokenizerFileException(configFile, "added_tokens_decoder holds id " + e.getKey() + " ('"
                        + e.getValue() + "'), which " + json + " does not: the tokenizer could not produce it");
            }
        }
        int size = byId.keySet().stream().mapToInt(Integer::intValue).max().orElse(-1) + 1;
        String[] tokens = new String[size];
        byId.forEach((id, token) -> {
            tokens[id] = token;
            ids.put(token, id);
        });
        return tokens;
    }

    /** Keeps DJL's tokenizers library from the network (see the class comment). */
    private static void requireOffline() {
        if (System.getProperty("ai.djl.offline") == null && System.getenv("DJL_OFFLINE") == null) {
            System.setProperty("ai.djl.offline", "true");
        }
    }

    private Integer idOf(String token, String key, Path file) {
        if (token == null) {
            return null;
        }
        Integer id = ids.get(token);
        if (id == null) {
            throw new TokenizerFileException(file, key + " '" + token + "' is not in the vocabulary of "
                    + folder.resolve(TOKENIZER_JSON));
        }
        return id;
    }

    private static void putIfPresent(Map<String, String> map, String key, String value) {
        if (value != null) {
            map.put(key, value);
        }
    }

    /** Encodes text without special tokens (the {@link Tokenizer} contract). */
    @Override
    public int[] encode(String text) {
        return encode(text, false);
    }

    /**
     * Encodes text; with {@code addSpecialTokens}, as the model's own encoding does ({@code tokenizer.json}'s
     * post-processor, with {@code add_bos_token}/{@code add_eos_token} of {@code tokenizer_config.json} deciding
     * where they are set, as Hugging Face's fast Llama tokenizer does).
     */
    public int[] encode(String text, boolean addSpecialTokens) {
        long[] raw = tokenizer.encode(text, addSpecialTokens, false).getIds();
        int[] out = new int[raw.length];
        for (int i = 0; i < raw.length; i++) {
            out[i] = Math.toIntExact(raw[i]);
        }
        if (!addSpecialTokens) {
            return out;
        }
        if (declaredBos != null && config.addBosToken() != null) {
            boolean starts = out.length > 0 && out[0] == declaredBos;
            if (config.addBosToken() && !starts) {
                out = concat(new int[] {declaredBos}, out);
            } else if (!config.addBosToken() && starts) {
                out = Arrays.copyOfRange(out, 1, out.length);
            }
        }
        if (declaredEos != null && config.addEosToken() != null) {
            boolean ends = out.length > 0 && out[out.length - 1] == declaredEos;
            if (config.addEosToken() && !ends) {
                out = concat(out, new int[] {declaredEos});
            } else if (!config.addEosToken() && ends) {
                out = Arrays.copyOf(out, out.length - 1);
            }
        }
        return out;
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** Decodes ids, skipping special tokens (the {@link Tokenizer} contract). */
    @Override
    public String decode(int[] ids) {
        return decode(ids, true);
    }

    /**
     * Decodes ids into text, with {@code clean_up_tokenization_spaces} applied where {@code tokenizer_config.json}
     * asks for it, as Hugging Face's {@code decode} does.
     *
     * @throws IllegalArgumentException naming an id outside the vocabulary
     */
    public String decode(int[] ids, boolean skipSpecialTokens) {
        long[] raw = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            checkId(ids[i]);
            raw[i] = ids[i];
        }
        String text = tokenizer.decode(raw, skipSpecialTokens);
        return config.cleanUpTokenizationSpaces() ? cleanUpTokenizationSpaces(text) : text;
    }

    /**
     * Hugging Face's {@code clean_up_tokenization}: removes the space before punctuation and English contractions.
     * Written out because DJL applies it only through its own reader of {@code tokenizer_config.json}, which this
     * class does not use (see {@link #load}).
     */
    static String cleanUpTokenizationSpaces(String text) {
        return text.replace(" .", ".").replace(" ?", "?").replace(" !", "!").replace(" ,", ",")
                .replace(" ' ", "'").replace(" n't", "n't").replace(" 'm", "'m").replace(" 's", "'s")
                .replace(" 've", "'ve").replace(" 're", "'re");
    }

    private void checkId(int id) {
        if (id < 0 || id >= tokens.length || tokens[id] == null) {
            throw new IllegalArgumentException("id " + id + " is outside the vocabulary [0, " + tokens.length
                    + ") of " + folder.resolve(TOKENIZER_JSON));
        }
    }

    /** The surface strings of ids, as {@code tokenizer.json} spells them (GPT-2's byte-level "Ġworld"). */
    public List<String> tokens(int[] idsToShow) {
        return Arrays.stream(idsToShow).mapToObj(this::token).toList();
    }

    @Override
    public String token(int id) {
        checkId(id);
        return tokens[id];
    }

    /** The id of a token string, if the vocabulary holds it. */
    public Integer id(String token) {
        return ids.get(token);
    }

    /** The largest id plus one ({@code len(tokenizer)} in Hugging Face); the model's embedding may be larger. */
    @Override
    public int vocabSize() {
        return tokens.length;
    }

    /** The declared {@code bos_token}, else the EOS (see the class comment). */
    @Override
    public int bosId() {
        return bos;
    }

    /** The declared {@code eos_token}, else the first of {@code generation_config.json}'s {@code eos_token_id}. */
    @Override
    public int eosId() {
        return eos;
    }

    /** The declared {@code pad_token}, else the EOS (see the class comment). */
    @Override
    public int padId() {
        return pad;
    }

    /** Every id that ends a response: the EOS and each of {@code generation_config.json}'s {@code eos_token_id}. */
    public int[] stopIds() {
        return stopIds.clone();
    }

    /** The model's chat template, or the plain-text rendering where it has none. */
    public ChatTemplate chatTemplate() {
        return chatTemplate;
    }

    /**
     * A conversation's ids as the model sees it: rendered by {@link #chatTemplate()} and encoded without adding
     * special tokens (a template writes its own, as Hugging Face's {@code apply_chat_template} assumes).
     */
    public int[] encodeChat(List<ChatMessage> messages, boolean addGenerationPrompt) {
        return encode(chatTemplate.render(messages, addGenerationPrompt), false);
    }

    /** The settings read from {@code tokenizer_config.json} and {@code generation_config.json}. */
    public HfTokenizerConfig config() {
        return config;
    }

    /** The model folder this tokenizer was read from. */
    public Path folder() {
        return folder;
    }

    /** Frees the native tokenizer. */
    @Override
    public void close() {
        tokenizer.close();
    }
}
