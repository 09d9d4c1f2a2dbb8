package io.streamrlhf.schemas;

import io.streamrlhf.schemas.avro.ConversationTurn;
import io.streamrlhf.schemas.avro.Feedback;
import io.streamrlhf.schemas.avro.FeedbackKind;
import io.streamrlhf.schemas.avro.FeedbackSource;
import io.streamrlhf.schemas.avro.FinishReason;
import io.streamrlhf.schemas.avro.Generation;
import io.streamrlhf.schemas.avro.MetricEvent;
import io.streamrlhf.schemas.avro.ModelRef;
import io.streamrlhf.schemas.avro.PolicyVersion;
import io.streamrlhf.schemas.avro.PreferencePair;
import io.streamrlhf.schemas.avro.PreferenceStrength;
import io.streamrlhf.schemas.avro.Prompt;
import io.streamrlhf.schemas.avro.RewardModelVersion;
import io.streamrlhf.schemas.avro.Role;
import io.streamrlhf.schemas.avro.SamplingParams;
import io.streamrlhf.schemas.avro.ScoreSource;
import io.streamrlhf.schemas.avro.ScoredGeneration;
import io.streamrlhf.schemas.avro.SourceScore;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.avro.specific.SpecificRecord;

/**
 * One realistic record of every topic's contract, with every optional field filled (so a round trip exercises
 * unions, maps, arrays, enums, logical types and nested records): what the tests round-trip and what the fuzzers
 * ({@link io.streamrlhf.schemas.fuzz.RecordDamage}) start from.
 */
public final class ContractSamples {
    /** Millisecond precision: timestamp-millis keeps no more. */
    public static final Instant T0 = Instant.parse("2025-06-01T12:00:00.123Z");

    private ContractSamples() {
    }

    /** The sample conversation. */
    public static List<ConversationTurn> conversation() {
        return List.of(
                new ConversationTurn(Role.SYSTEM, "You are a helpful assistant."),
                new ConversationTurn(Role.USER, "Write a cheerful sentence about the harbour, please — ünïcødé ok?"));
    }

    /** The sample prompt record. */
    public static Prompt prompt() {
        return Prompt.newBuilder()
                .setPromptId("p-000042")
                .setConversation(conversation())
                .setCategory("Helpfulness/Creative/Sentence")
                .setSamplesPerPrompt(4)
                .setSource("rmb:pairwise_set/Helpfulness.json")
                .setMetadata(Map.of("pair_uid", "a1b2c3", "goal", "helpfulness"))
                .setCreatedAt(T0)
                .build();
    }

    /** A generation of {@code responseTokens} tokens. */
    public static Generation generation(int responseTokens) {
        List<Integer> promptTokens = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            promptTokens.add(3 + i * 7);
        }
        List<Integer> response = new ArrayList<>();
        List<Float> logprobs = new ArrayList<>();
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < responseTokens; i++) {
            response.add((i * 31 + 5) % 300);
            logprobs.add(-0.05f - (i % 9) * 0.37f);
            text.append(i == 0 ? "" : " ").append("word").append(i % 17);
        }
        return Generation.newBuilder()
                .setGenerationId("g-000042-2")
                .setPromptId("p-000042")
                .setGroupSize(4)
                .setGroupIndex(2)
                .setPromptTokens(promptTokens)
                .setResponseTokens(response)
                .setPromptText("<|user|> write a cheerful sentence about the harbour <|assistant|>")
                .setResponseText(text.toString())
                .setBehaviourLogprobs(logprobs)
                .setPolicyName("policy")
                .setPolicyVersion(17L)
                .setWorkerId("worker-1")
                .setFinishReason(FinishReason.EOS)
                .setSampling(new SamplingParams(0.9f, 0.95f, 50, 64, 1234L))
                .setCategory("harbour")
                .setStartedAt(T0)
                .setCreatedAt(T0.plusMillis(850))
                .build();
    }

    /** The sample generation record. */
    public static Generation generation() {
        return generation(40);
    }

    /** The sample scored record. */
    public static ScoredGeneration scored() {
        return ScoredGeneration.newBuilder()
                .setGeneration(generation())
                .setScores(List.of(
                        new SourceScore("rm-0", ScoreSource.NEURAL_RM, new ModelRef("rm-0", 5L), 1.25, 0.4),
                        new SourceScore("rm-1", ScoreSource.TORCHSCRIPT_RM, new ModelRef("rm-1", 3L), 0.75, -0.1),
                        new SourceScore("length-rule", ScoreSource.RULE_BASED, null, 1.0, 0.2)))
                .setEnsembleMean(0.16666666666666666)
                .setEnsembleStd(0.2054804667656325)
                .setEnsembleMin(-0.1)
                .setAggregation("mean_minus_k_std")
                .setReward(-0.0388)
                .setScoredAt(T0.plusSeconds(2))
                .setReferenceLogprobs(List.of(-2.5f, -0.125f, -7.75f))
                .setReferenceModel("sha256:" + "0f".repeat(32))
                .build();
    }

    /** The sample feedback record. */
    public static Feedback feedback() {
        return Feedback.newBuilder()
                .setFeedbackId("f-9")
                .setPromptId("p-000042")
                .setKind(FeedbackKind.PAIRWISE)
                .setGenerationIds(List.of("g-000042-0", "g-000042-2"))
                .setConversation(conversation())
                .setTexts(List.of())
                .setPreferredIndex(1)
                .setRating(null)
                .setConfidence(0.8)
                .setAnnotatorId("rater-bt-07")
                .setSource(FeedbackSource.SIMULATED)
                .setComment("the second stays on topic")
                .setCreatedAt(T0.plusSeconds(30))
                .build();
    }

    /** The sample preference record. */
    public static PreferencePair preference() {
        return PreferencePair.newBuilder()
                .setPairId("f-9/0")
                .setPromptId("p-000042")
                .setConversation(conversation())
                .setChosen("The harbour sparkles with happy boats.")
                .setRejected("Harbour harbour harbour.")
                .setChosenGenerationId("g-000042-2")
                .setRejectedGenerationId("g-000042-0")
                .setLabelSource(FeedbackSource.HUMAN)
                .setFeedbackId("f-9")
                .setConfidence(0.8)
                .setStrength(new PreferenceStrength(0.62, 0.31, 3,
                        List.of(new ModelRef("rm-0", 5L), new ModelRef("rm-1", 3L), new ModelRef("rm-2", 4L))))
                .setCategory("Helpfulness/Creative/Sentence")
                .setCreatedAt(T0.plusSeconds(31))
                .build();
    }

    /** The sample policyVersion record. */
    public static PolicyVersion policyVersion() {
        return PolicyVersion.newBuilder()
                .setName("policy")
                .setVersion(18L)
                .setCheckpointUri("file:///var/lib/rlhf/checkpoints/policy/18")
                .setSha256("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")
                .setSizeBytes(1_668_212L)
                .setParentVersion(17L)
                .setStep(1_800L)
                .setMetrics(Map.of("reward/mean", 0.41, "policy/kl_ref", 0.012, "losses/approx_kl", 0.004))
                .setCreatedAt(T0.plusSeconds(60))
                .build();
    }

    /** The sample rewardModelVersion record. */
    public static RewardModelVersion rewardModelVersion() {
        return RewardModelVersion.newBuilder()
                .setName("rm-0")
                .setVersion(6L)
                .setCheckpointUri("kafka:rlhf.checkpoints/rm-0/6")
                .setSha256("2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae")
                .setSizeBytes(802_816L)
                .setParentVersion(5L)
                .setStep(240L)
                .setEnsemble("default")
                .setMetrics(Map.of("eval/pairwise_accuracy", 0.71))
                .setCreatedAt(T0.plusSeconds(90))
                .build();
    }

    /** The sample metric record. */
    public static MetricEvent metric() {
        return MetricEvent.newBuilder()
                .setComponent("learner")
                .setName("losses/approx_kl")
                .setValue(0.0042)
                .setStep(1_800L)
                .setTags(Map.of("policy_version", "18"))
                .setTimestamp(T0.plusSeconds(61))
                .build();
    }

    /** One sample of each of the eight topic contracts. */
    public static List<SpecificRecord> all() {
        return List.of(prompt(), generation(), scored(), feedback(), preference(), policyVersion(),
                rewardModelVersion(), metric());
    }
}
