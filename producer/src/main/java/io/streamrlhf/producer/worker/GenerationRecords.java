package io.streamrlhf.producer.worker;

import io.streamrlhf.models.sampling.SampleResult;
import io.streamrlhf.models.sampling.SamplingParams;
import io.streamrlhf.schemas.AvroArrays;
import io.streamrlhf.schemas.avro.FinishReason;
import io.streamrlhf.schemas.avro.Generation;
import io.streamrlhf.schemas.avro.Prompt;
import java.nio.charset.StandardCharsets;
import java.util.UUID;

/**
 * Builds the {@code Generation} records of one worker from its sampled rows: ids, tokens, texts, log-probs, the
 * sampling parameters, and who generated them with which policy version.
 */
final class GenerationRecords {
    private final String policyName;
    private final String workerId;

    GenerationRecords(String policyName, String workerId) {
        this.policyName = policyName;
        this.workerId = workerId;
    }

    /**
     * The generation of row {@code row} of the batch, the {@code i}-th sequence of {@code chunk}.
     *
     * @param responseText the sampled tokens decoded
     * @param version      the policy version that sampled it
     */
    Generation build(PromptBatch.Row row, SampledBatch.Chunk chunk, int i, String responseText, long version) {
        SampleResult result = chunk.result();
        Prompt prompt = row.prompt().prompt();
        return Generation.newBuilder()
                .setGenerationId(generationId(row.prompt(), row.index()))
                .setPromptId(prompt.getPromptId())
                .setGroupSize(row.prompt().rows())
                .setGroupIndex(row.index())
                .setPromptTokens(AvroArrays.ofInts(row.tokens()))
                .setResponseTokens(AvroArrays.ofInts(result.tokens()[i]))
                .setPromptText(row.text())
                .setResponseText(responseText)
                .setBehaviourLogprobs(AvroArrays.ofFloats(result.logProbs()[i]))
                .setPolicyName(policyName)
                .setPolicyVersion(version)
                .setWorkerId(workerId)
                .setFinishReason(result.finishReasons()[i] == io.streamrlhf.models.sampling.FinishReason.EOS
                        ? FinishReason.EOS : FinishReason.MAX_TOKENS)
                .setSampling(sampling(chunk.params()))
                .setCategory(prompt.getCategory())
                .setReferenceAnswers(prompt.getReferenceAnswers())
                .setVerifier(prompt.getVerifier())
                .setStartedAt(chunk.started())
                .setCreatedAt(chunk.created())
                .build();
    }

    /** The Avro form of the sampling parameters a generation was sampled with. */
    static io.streamrlhf.schemas.avro.SamplingParams sampling(SamplingParams params) {
        return io.streamrlhf.schemas.avro.SamplingParams.newBuilder()
                .setTemperature((float) params.temperature()).setTopP((float) params.topP()).setTopK(params.topK())
                .setMaxNewTokens(params.maxNewTokens()).setSeed(params.seed()).build();
    }

    /**
     * A generation's id: a name-based UUID of the prompt record's position and the sample's index, so the same
     * prompt record always yields the same ids (an aborted and regenerated batch reuses them).
     */
    static String generationId(PolledPrompt p, int index) {
        String name = p.partition().topic() + "/" + p.partition().partition() + "/" + p.offset() + "/" + index;
        return UUID.nameUUIDFromBytes(name.getBytes(StandardCharsets.UTF_8)).toString();
    }
}
