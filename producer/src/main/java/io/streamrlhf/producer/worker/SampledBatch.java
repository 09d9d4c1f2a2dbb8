package io.streamrlhf.producer.worker;

import io.streamrlhf.models.sampling.SampleResult;
import io.streamrlhf.models.sampling.SamplingParams;
import java.time.Instant;
import java.util.List;

/**
 * What the sampler gives back for a {@link PromptBatch}: the policy version it was sampled with and one entry per
 * sampling call (a prompt with more samples than the batch size takes several).
 *
 * @param version the policy version every generation of the batch carries
 * @param chunks  the sampling calls, in row order
 */
record SampledBatch(long version, List<Chunk> chunks) {

    /**
     * One sampling call.
     *
     * @param from    its first row in the batch
     * @param params  the parameters it ran with
     * @param result  what it sampled, one sequence per row from {@code from}
     * @param started when it started
     * @param created when it returned
     */
    record Chunk(int from, SamplingParams params, SampleResult result, Instant started, Instant created) {
    }
}
