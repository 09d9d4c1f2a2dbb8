package io.streamrlhf.models.sft;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.streamrlhf.models.engine.NoGrad;
import io.streamrlhf.models.policy.LogProbs;
import io.streamrlhf.models.policy.PolicyModel;
import io.streamrlhf.models.world.SftExample;
import io.streamrlhf.models.world.Vocabulary;
import java.util.List;

/** Held-out perplexity of a policy on corpus examples, and its loss on an encoded JSONL corpus. */
public final class SftEvaluation {

    private SftEvaluation() {
    }

    /**
     * exp(mean negative log-likelihood per response token, {@code <eos>} included), prompts given.
     * A uniform model over the vocabulary scores the vocabulary size.
     */
    public static double perplexity(PolicyModel policy, Vocabulary vocabulary, List<SftExample> examples,
                                    int batchSize) {
        double nll = 0;
        long count = 0;
        int context = policy.config().contextLength();
        for (int start = 0; start < examples.size(); start += batchSize) {
            SftBatch batch = SftBatch.of(examples.subList(start, Math.min(examples.size(), start + batchSize)),
                    vocabulary, context);
            try (NDManager step = policy.manager().newSubManager()) {
                NDArray tokens = batch.tokens(step);  // (B, T)
                NDArray logits = policy.forward(tokens, batch.attention(step), false).logits();  // (B, T, V)
                NDArray logp = LogProbs.ofSequence(logits, tokens);  // (B, T-1)
                nll -= logp.mul(batch.lossMask(step)).sum().getFloat();
                count += batch.targetCount();
            }
        }
        return Math.exp(nll / count);
    }

    /**
     * The mean negative log-likelihood per learned token (nats) of {@code sequences}, prompts given, without
     * gradients: the loss SFT minimises, measured over the whole of them.
     *
     * @param padId the padding id of the batches
     */
    public static double meanLoss(PolicyModel policy, List<EncodedCorpus.Sequence> sequences, int padId,
                                  int batchSize) {
        double nll = 0;
        long count = 0;
        int context = policy.config().contextLength();
        try (NoGrad ignored = NoGrad.enter()) {
            for (int start = 0; start < sequences.size(); start += batchSize) {
                SftBatch batch = SftBatch.of(sequences.subList(start, Math.min(sequences.size(), start + batchSize)),
                        padId, context);
                try (NDManager step = policy.manager().newSubManager()) {
                    NDArray tokens = batch.tokens(step);  // (B, T)
                    NDArray logits = policy.forward(tokens, batch.attention(step), false).logits();  // (B, T, V)
                    NDArray logp = LogProbs.ofSequence(logits, tokens);  // (B, T-1)
                    nll -= logp.mul(batch.lossMask(step)).sum().getFloat();
                    count += batch.targetCount();
                }
            }
        }
        return nll / count;
    }
}
