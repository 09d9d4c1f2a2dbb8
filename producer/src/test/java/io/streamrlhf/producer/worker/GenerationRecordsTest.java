package io.streamrlhf.producer.worker;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrlhf.models.sampling.FinishReason;
import io.streamrlhf.models.sampling.SampleResult;
import io.streamrlhf.models.sampling.SamplingParams;
import io.streamrlhf.schemas.avro.Generation;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class GenerationRecordsTest {
    private static final TopicPartition P2 = new TopicPartition("prompts", 2);

    @Test
    void idsDependOnlyOnThePromptRecordsPositionAndTheSampleIndex() {
        PolledPrompt p = PromptQueueTest.polled(P2, 11, 2);
        PolledPrompt again = PromptQueueTest.polled(P2, 11, 5);
        assertThat(GenerationRecords.generationId(p, 0)).isEqualTo(GenerationRecords.generationId(again, 0))
                .isEqualTo(UUID.nameUUIDFromBytes("prompts/2/11/0".getBytes(StandardCharsets.UTF_8)).toString());
        assertThat(GenerationRecords.generationId(p, 1)).isNotEqualTo(GenerationRecords.generationId(p, 0));
        assertThat(GenerationRecords.generationId(PromptQueueTest.polled(P2, 12, 2), 0))
                .isNotEqualTo(GenerationRecords.generationId(p, 0));
    }

    @Test
    void buildsAGenerationFromItsRowAndSamplingCall() {
        PolledPrompt p = PromptQueueTest.polled(P2, 11, 2);
        p.prompt().setReferenceAnswers(List.of("8"));
        p.prompt().setVerifier("numeric;extract=last-number");
        PromptBatch.Row row = new PromptBatch.Row(p, 1, "hello", new int[] {1, 5});
        SamplingParams params = new SamplingParams(0.7, 8, 0.9, 4, 2, 0, 99);
        SampleResult result = new SampleResult(new int[][] {{1, 5}, {1, 5}}, new int[][] {{7}, {8, 2}},
                new float[][] {{-0.5f}, {-0.25f, -0.125f}}, new FinishReason[] {FinishReason.LENGTH,
                FinishReason.EOS});
        Instant started = Instant.ofEpochMilli(1_000);
        Instant created = Instant.ofEpochMilli(2_000);
        SampledBatch.Chunk chunk = new SampledBatch.Chunk(0, params, result, started, created);

        Generation g = new GenerationRecords("chat", "w-0").build(row, chunk, 1, "eight", 6);

        assertThat(g.getGenerationId()).isEqualTo(GenerationRecords.generationId(p, 1));
        assertThat(g.getPromptId()).isEqualTo("2-11");
        assertThat(g.getGroupSize()).isEqualTo(2);
        assertThat(g.getGroupIndex()).isEqualTo(1);
        assertThat(g.getPromptTokens()).containsExactly(1, 5);
        assertThat(g.getResponseTokens()).containsExactly(8, 2);
        assertThat(g.getBehaviourLogprobs()).containsExactly(-0.25f, -0.125f);
        assertThat(g.getPromptText()).isEqualTo("hello");
        assertThat(g.getResponseText()).isEqualTo("eight");
        assertThat(g.getPolicyName()).isEqualTo("chat");
        assertThat(g.getPolicyVersion()).isEqualTo(6L);
        assertThat(g.getWorkerId()).isEqualTo("w-0");
        assertThat(g.getReferenceAnswers()).containsExactly("8");
        assertThat(g.getVerifier()).isEqualTo("numeric;extract=last-number");
        assertThat(g.getFinishReason()).isEqualTo(io.streamrlhf.schemas.avro.FinishReason.EOS);
        assertThat(g.getSampling().getTemperature()).isEqualTo(0.7f);
        assertThat(g.getSampling().getTopK()).isEqualTo(8);
        assertThat(g.getSampling().getTopP()).isEqualTo(0.9f);
        assertThat(g.getSampling().getMaxNewTokens()).isEqualTo(4);
        assertThat(g.getSampling().getSeed()).isEqualTo(99L);
        assertThat(g.getStartedAt()).isEqualTo(started);
        assertThat(g.getCreatedAt()).isEqualTo(created);
        assertThat(new GenerationRecords("chat", "w-0").build(row, chunk, 0, "seven", 6).getFinishReason())
                .isEqualTo(io.streamrlhf.schemas.avro.FinishReason.MAX_TOKENS);
        assertThat(g.getCategory()).isNull();
    }
}
