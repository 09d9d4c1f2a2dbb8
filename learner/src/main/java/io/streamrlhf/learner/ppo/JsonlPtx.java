package io.streamrlhf.learner.ppo;

import io.streamrlhf.models.hf.tokenizer.HfTokenizer;
import io.streamrlhf.models.sft.EncodedCorpus;
import io.streamrlhf.models.sft.JsonlCorpus;
import io.streamrlhf.models.sft.SftBatch;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * PPO-ptx data from a user's JSONL corpus ({@code learner.ptx.data}; the format is {@link JsonlCorpus}'s), encoded
 * once with the policy's tokenizer and chat template: each batch draws examples at random (seeded, with
 * replacement); the prompt is conditioned on and the response learned, as in {@code rlhf sft --model}, and a
 * {@code {"text"}} line is learned whole.
 */
public final class JsonlPtx implements PtxSource {

    private final EncodedCorpus corpus;
    private final int padId;
    private final SplittableRandom random;

    /**
     * A source over an encoded corpus.
     *
     * @param padId the padding id of the policy's tokenizer
     */
    public JsonlPtx(EncodedCorpus corpus, int padId, long seed) {
        this.corpus = corpus;
        this.padId = padId;
        this.random = new SplittableRandom(seed ^ 0x9e3779b97f4a7c15L);
    }

    /**
     * Reads and encodes {@code file} for a policy of {@code context} positions.
     *
     * @throws io.streamrlhf.models.sft.CorpusFormatException naming {@code FILE:LINE} of a bad line
     */
    public static JsonlPtx load(Path file, HfTokenizer tokenizer, int context, long seed) {
        return new JsonlPtx(JsonlCorpus.read(file).encode(tokenizer, context), tokenizer.padId(), seed);
    }

    /** The encoded corpus. */
    public EncodedCorpus corpus() {
        return corpus;
    }

    @Override
    public PtxBatch next(int rows, int context) {
        List<EncodedCorpus.Sequence> picked = new ArrayList<>(rows);
        for (int i = 0; i < rows; i++) {
            picked.add(corpus.sequences().get(random.nextInt(corpus.size())));
        }
        SftBatch batch = SftBatch.of(picked, padId, context);
        return new PtxBatch(batch.tokens(), batch.attention(), batch.lossMask(), batch.rows(), batch.length());
    }
}
