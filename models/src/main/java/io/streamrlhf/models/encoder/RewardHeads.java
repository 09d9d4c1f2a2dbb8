package io.streamrlhf.models.encoder;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * An ensemble of linear reward heads over a frozen encoder's embeddings of (prompt, response): head m scores
 * {@code w_m · f(p, r) + b_m} with the features {@code f = [e(r), e(p) ⊙ e(r), |e(p) − e(r)|]}; the reward is the
 * heads' mean and their spread is the ensemble's uncertainty (Secrets of RLHF Part II's preference strength).
 * Saved as {@value #FILE} in a folder, which {@code embed:DIR} scores with.
 *
 * @param name      a name for the ensemble (recorded with scores)
 * @param version   the version recorded with scores
 * @param encoder   the encoder the heads were trained on ({@link MiniLm#NAME})
 * @param method    the training method, for the record
 * @param weights   {@code [head][feature]}
 * @param biases    {@code [head]}
 */
public record RewardHeads(String name, long version, String encoder, String method, float[][] weights,
                          float[] biases) {

    /** The file in a heads folder. */
    public static final String FILE = "reward-heads.json";
    /** Features per (prompt, response): three blocks of the embedding width. */
    public static final int FEATURES = 3 * MiniLm.DIMENSION;

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** Checks the shapes. */
    public RewardHeads {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(encoder, "encoder");
        if (weights.length == 0 || weights.length != biases.length) {
            throw new IllegalArgumentException("reward heads: " + weights.length + " weight rows and "
                    + biases.length + " biases; need the same number, at least one");
        }
        for (float[] row : weights) {
            if (row.length != FEATURES) {
                throw new IllegalArgumentException("reward heads: a head has " + row.length + " weights, expected "
                        + FEATURES);
            }
        }
    }

    /** The features of a (prompt, response) pair from their embeddings. */
    public static float[] features(float[] prompt, float[] response) {
        int d = MiniLm.DIMENSION;
        if (prompt.length != d || response.length != d) {
            throw new IllegalArgumentException("embeddings must have " + d + " values, got " + prompt.length + " and "
                    + response.length);
        }
        float[] f = new float[FEATURES];
        for (int k = 0; k < d; k++) {
            f[k] = response[k];
            f[d + k] = prompt[k] * response[k];
            f[2 * d + k] = Math.abs(prompt[k] - response[k]);
        }
        return f;
    }

    /** Number of heads. */
    public int size() {
        return weights.length;
    }

    /** Every head's score of one feature vector. */
    public double[] scores(float[] features) {
        double[] out = new double[weights.length];
        for (int m = 0; m < weights.length; m++) {
            double s = biases[m];
            float[] w = weights[m];
            for (int k = 0; k < w.length; k++) {
                s += w[k] * features[k];
            }
            out[m] = s;
        }
        return out;
    }

    /** The ensemble's reward for one feature vector: the heads' mean. */
    public double score(float[] features) {
        return Arrays.stream(scores(features)).average().orElseThrow();
    }

    /** Writes {@value #FILE} into {@code dir} (created if needed). */
    public void save(Path dir) {
        try {
            Files.createDirectories(dir);
            Path tmp = dir.resolve(FILE + ".tmp");
            JSON.writeValue(tmp.toFile(), this);
            Files.move(tmp, dir.resolve(FILE), java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write reward heads to " + dir, e);
        }
    }

    /** Reads {@value #FILE} from {@code dir}, naming the file when it is missing or wrong. */
    public static RewardHeads load(Path dir) {
        Path file = dir.resolve(FILE);
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException(dir + " has no " + FILE + " (train one with 'rlhf train-rm --encoder "
                    + "minilm ... --out " + dir + "')");
        }
        try {
            RewardHeads heads = JSON.readValue(file.toFile(), RewardHeads.class);
            if (!List.of(MiniLm.NAME).contains(heads.encoder())) {
                throw new IllegalArgumentException(file + " was trained on encoder '" + heads.encoder()
                        + "'; only " + MiniLm.NAME + " is available");
            }
            return heads;
        } catch (IOException e) {
            throw new IllegalArgumentException(file + " is not a reward-heads file: " + e.getMessage(), e);
        }
    }
}
