package io.streamrlhf.rewardstream;

import io.streamrlhf.models.checkpoint.Checkpoint;
import io.streamrlhf.models.checkpoint.CheckpointStore;
import io.streamrlhf.models.policy.TransformerPolicy;
import io.streamrlhf.models.transformer.TransformerConfig;
import io.streamrlhf.rewardstream.scoring.RewardSource;
import io.streamrlhf.rewardstream.scoring.ScoringInput;
import io.streamrlhf.schemas.avro.ConversationTurn;
import io.streamrlhf.schemas.avro.Feedback;
import io.streamrlhf.schemas.avro.FeedbackKind;
import io.streamrlhf.schemas.avro.FeedbackSource;
import io.streamrlhf.schemas.avro.FinishReason;
import io.streamrlhf.schemas.avro.Generation;
import io.streamrlhf.schemas.avro.Role;
import io.streamrlhf.schemas.avro.SamplingParams;
import io.streamrlhf.schemas.avro.ScoreSource;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/** Records and fake reward sources shared by this module's tests. */
public final class Fixtures {
    public static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    private Fixtures() {
    }

    /** Vocabulary and shape of the small policies the reference tests save (Fixtures' token ids are below 16). */
    public static final TransformerConfig POLICY_SHAPE = new TransformerConfig(16, 16, 16, 1, 2);

    /** Saves a freshly initialised policy checkpoint to {@code dir}; returns it (its weights id names it). */
    public static Checkpoint savePolicy(Path dir, long seed) {
        try (TransformerPolicy policy = TransformerPolicy.create(POLICY_SHAPE, seed)) {
            Checkpoint c = policy.toCheckpoint(Map.of("name", "sft"), null);
            CheckpointStore.save(c, dir);
            return c;
        }
    }

    /** A generation with the given id and response text (tokens: one per word, id = word length). */
    public static Generation generation(String id, String promptId, String response) {
        List<Integer> tokens = new ArrayList<>();
        List<Float> logprobs = new ArrayList<>();
        for (String w : response.split("\\s+")) {
            if (!w.isEmpty()) {
                tokens.add(Math.min(15, 4 + w.length()));
                logprobs.add(-0.5f);
            }
        }
        return Generation.newBuilder()
                .setGenerationId(id)
                .setPromptId(promptId)
                .setGroupSize(2)
                .setGroupIndex(0)
                .setPromptTokens(List.of(1, 5, 6))
                .setResponseTokens(tokens)
                .setPromptText("tell me about " + promptId)
                .setResponseText(response)
                .setBehaviourLogprobs(logprobs)
                .setPolicyName("policy")
                .setPolicyVersion(3L)
                .setWorkerId("worker-0")
                .setFinishReason(FinishReason.EOS)
                .setSampling(SamplingParams.newBuilder().setTemperature(1f).setMaxNewTokens(16).build())
                .setCategory("cat")
                .setStartedAt(T0)
                .setCreatedAt(T0)
                .build();
    }

    /** A pairwise label over two generation ids. */
    public static Feedback pairwise(String feedbackId, String promptId, List<String> generationIds, int preferred) {
        return Feedback.newBuilder()
                .setFeedbackId(feedbackId)
                .setPromptId(promptId)
                .setKind(generationIds.size() == 2 ? FeedbackKind.PAIRWISE : FeedbackKind.BEST_OF_N)
                .setGenerationIds(generationIds)
                .setPreferredIndex(preferred)
                .setConfidence(0.9)
                .setAnnotatorId("rater-1")
                .setSource(FeedbackSource.SIMULATED)
                .setCreatedAt(T0)
                .build();
    }

    /** A pairwise label with inline texts. */
    public static Feedback inline(String feedbackId, String promptId, String a, String b, int preferred) {
        return Feedback.newBuilder()
                .setFeedbackId(feedbackId)
                .setPromptId(promptId)
                .setKind(FeedbackKind.PAIRWISE)
                .setConversation(List.of(new ConversationTurn(Role.USER, "question " + promptId)))
                .setTexts(List.of(a, b))
                .setPreferredIndex(preferred)
                .setAnnotatorId("human-7")
                .setSource(FeedbackSource.HUMAN)
                .setCreatedAt(T0)
                .build();
    }

    /** A rule-like source computing a function of each input, recording every batch size it saw. */
    public static class FunctionSource implements RewardSource {
        private final String name;
        private final ToDoubleFunction<ScoringInput> f;
        public final List<Integer> batchSizes = Collections.synchronizedList(new ArrayList<>());

        public FunctionSource(String name, ToDoubleFunction<ScoringInput> f) {
            this.name = name;
            this.f = f;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public ScoreSource kind() {
            return ScoreSource.RULE_BASED;
        }

        @Override
        public long version() {
            return 1;
        }

        @Override
        public double[] score(List<ScoringInput> batch) {
            batchSizes.add(batch.size());
            return batch.stream().mapToDouble(f).toArray();
        }
    }
}
