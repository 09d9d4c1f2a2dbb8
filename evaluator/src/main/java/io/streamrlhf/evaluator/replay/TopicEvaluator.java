package io.streamrlhf.evaluator.replay;

import io.streamrlhf.evaluator.metrics.GenerationEvaluator;
import io.streamrlhf.evaluator.metrics.PolicyComparison;
import io.streamrlhf.evaluator.metrics.RmComparison;
import io.streamrlhf.evaluator.metrics.RmbEvaluation;
import io.streamrlhf.evaluator.metrics.RmbScorer;
import io.streamrlhf.evaluator.metrics.ScoringComparison;
import io.streamrlhf.evaluator.rmb.RmbItem;
import io.streamrlhf.evaluator.rmb.RmbJson;
import io.streamrlhf.evaluator.rmb.RmbResponse;
import io.streamrlhf.evaluator.rmb.RmbTurn;
import io.streamrlhf.models.world.GoldReward;
import io.streamrlhf.rewardstream.scoring.RewardEnsemble;
import io.streamrlhf.schemas.avro.ConversationTurn;
import io.streamrlhf.schemas.avro.Generation;
import io.streamrlhf.schemas.avro.PreferencePair;
import io.streamrlhf.schemas.avro.ScoredGeneration;
import io.streamrlhf.schemas.avro.SourceScore;
import io.streamrlhf.schemas.topics.TopicSpec;
import io.streamrlhf.schemas.topics.Topics;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.IntConsumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Replays a topic range and evaluates what it holds, by topic:
 *
 * <ul>
 *   <li>{@code generations}: scored with the ensemble; reward (and gold) by policy version, each source side by side;</li>
 *   <li>{@code scored}: the recorded rewards by policy version, and each scorer version side by side;</li>
 *   <li>{@code preferences}: each pair as an RMB pairwise item, with RMB's metrics;</li>
 *   <li>any topic outside the catalog (an evaluation topic such as {@code rlhf.eval.rmb}): RMB JSON records, with
 *       RMB's metrics.</li>
 * </ul>
 */
public final class TopicEvaluator {

    /** What a topic holds, and so how it is evaluated. */
    public enum Kind { GENERATIONS, SCORED, PREFERENCES, RMB_JSON }

    /**
     * The outcome of one replay.
     *
     * @param kind       how the topic was read
     * @param summary    what the replay read
     * @param rmb        RMB metrics for preferences and RMB JSON topics, else {@code null}
     * @param policies   reward by policy version for generations and scored topics, else {@code null}
     * @param rms        scorers side by side for generations and scored topics, else {@code null}
     * @param unscorable generations the ensemble could not score
     */
    public record Result(Kind kind, ReplaySummary summary, RmbEvaluation rmb, PolicyComparison policies,
                         RmComparison rms, int unscorable) {
    }

    private final Map<String, ?> clientConfig;
    private final Topics topics;
    private final RewardEnsemble ensemble;
    private final GoldReward gold;
    private final int batchItems;

    /**
     * @param clientConfig {@code bootstrap.servers} and security settings for the consumer
     * @param topics       the catalog (its serdes read the Avro topics)
     * @param ensemble     the sources to score with; required for every kind but {@code scored}
     * @param gold         the synthetic world's gold reward, or {@code null}
     * @param batchItems   items or records per scoring call
     */
    public TopicEvaluator(Map<String, ?> clientConfig, Topics topics, RewardEnsemble ensemble, GoldReward gold,
                          int batchItems) {
        this.clientConfig = Objects.requireNonNull(clientConfig, "clientConfig");
        this.topics = Objects.requireNonNull(topics, "topics");
        this.ensemble = ensemble;
        this.gold = gold;
        this.batchItems = batchItems;
    }

    /**
     * The full name of {@code name} (a full name, or a base name such as {@code generations} completed with the
     * catalog's prefix) and how it will be evaluated.
     */
    public Map.Entry<String, Kind> resolve(String name) {
        Optional<TopicSpec<?, ?>> spec = topics.byName(name).or(() -> topics.byName(topics.prefix() + name));
        if (spec.isEmpty()) {
            return Map.entry(name, Kind.RMB_JSON);
        }
        String full = spec.get().name();
        if (full.equals(topics.generations().name())) {
            return Map.entry(full, Kind.GENERATIONS);
        }
        if (full.equals(topics.scored().name())) {
            return Map.entry(full, Kind.SCORED);
        }
        if (full.equals(topics.preferences().name())) {
            return Map.entry(full, Kind.PREFERENCES);
        }
        throw new IllegalArgumentException("topic " + full + " holds nothing the evaluator scores; replay "
                + topics.generations().name() + ", " + topics.scored().name() + ", " + topics.preferences().name()
                + " or an RMB evaluation topic");
    }

    /** Replays {@code range} ({@code range.topic()} may be a base name) and evaluates it. */
    public Result evaluate(TopicRange range, IntConsumer progress) {
        Map.Entry<String, Kind> resolved = resolve(range.topic());
        TopicRange full = new TopicRange(resolved.getKey(), range.from(), range.to());
        TopicReplayer replayer = new TopicReplayer(clientConfig);
        switch (resolved.getValue()) {
            case GENERATIONS, SCORED -> {
                GenerationEvaluator evaluator = new GenerationEvaluator(ensemble, gold);
                ReplaySummary summary;
                if (resolved.getValue() == Kind.GENERATIONS) {
                    requireEnsemble(full.topic());
                    TopicSpec<String, Generation> spec = topics.generations();
                    summary = replayer.replay(full, spec.keyDeserializer(), spec.valueDeserializer(), batch -> {
                        List<Generation> values = batch.stream().map(ConsumerRecord::value).toList();
                        for (int from = 0; from < values.size(); from += batchItems) {
                            evaluator.addGenerations(values.subList(from, Math.min(values.size(), from + batchItems)));
                        }
                        progress.accept(evaluator.records());
                    });
                } else {
                    TopicSpec<String, ScoredGeneration> spec = topics.scored();
                    summary = replayer.replay(full, spec.keyDeserializer(), spec.valueDeserializer(), batch -> {
                        evaluator.addScored(batch.stream().map(ConsumerRecord::value).toList());
                        progress.accept(evaluator.records());
                    });
                }
                return new Result(resolved.getValue(), summary, null, evaluator.policyComparison(),
                        evaluator.rmComparison(), evaluator.unscorable());
            }
            case PREFERENCES -> {
                requireEnsemble(full.topic());
                TopicSpec<String, PreferencePair> spec = topics.preferences();
                List<RmbItem> items = new ArrayList<>();
                ReplaySummary summary = replayer.replay(full, spec.keyDeserializer(), spec.valueDeserializer(),
                        batch -> batch.forEach(r -> items.add(item(r.value()))));
                return new Result(Kind.PREFERENCES, summary, new RmbScorer(ensemble, batchItems)
                        .evaluate(items, progress), null, null, 0);
            }
            default -> {
                requireEnsemble(full.topic());
                List<RmbItem> items = new ArrayList<>();
                ReplaySummary summary = replayer.replay(full, new StringDeserializer(), new ByteArrayDeserializer(),
                        batch -> batch.forEach(r -> items.add(RmbJson.parse(r.value(), r.topic() + " partition "
                                + r.partition() + " offset " + r.offset()))));
                return new Result(Kind.RMB_JSON, summary, new RmbScorer(ensemble, batchItems)
                        .evaluate(items, progress), null, null, 0);
            }
        }
    }

    /**
     * Replays two scored topics (each a full name, or {@code scored} for the catalog's) over the same bounds and
     * compares their rewards, joined by generation id: the usual check of a re-scoring ({@code rlhf rescore}) against
     * the scoring it re-did. Needs no ensemble.
     *
     * @param first    the first scoring's range
     * @param second   the second scoring's range
     * @param progress records read so far, both topics together
     * @return the comparison, and what each replay read
     */
    public Comparison compare(TopicRange first, TopicRange second, IntConsumer progress) {
        ScoringComparison.Accumulator acc = new ScoringComparison.Accumulator();
        TopicReplayer replayer = new TopicReplayer(clientConfig);
        TopicSpec<String, ScoredGeneration> spec = topics.scored();
        List<ReplaySummary> summaries = new ArrayList<>();
        int[] read = {0};
        List<TopicRange> ranges = List.of(first, second);
        for (int side = 0; side < 2; side++) {
            TopicRange r = ranges.get(side);
            TopicRange full = new TopicRange(scoredName(r.topic()), r.from(), r.to());
            int s = side;
            summaries.add(replayer.replay(full, spec.keyDeserializer(), spec.valueDeserializer(), batch -> {
                for (ConsumerRecord<String, ScoredGeneration> record : batch) {
                    ScoredGeneration v = record.value();
                    if (v == null) {
                        throw new IllegalArgumentException(full.topic() + " partition " + record.partition()
                                + " offset " + record.offset() + " has no value; a scored topic holds a "
                                + "ScoredGeneration in every record");
                    }
                    acc.add(s, v.getGeneration().getGenerationId(), v.getGeneration().getPromptId(), v.getReward(),
                            versionLabel(v));
                }
                read[0] += batch.size();
                progress.accept(read[0]);
            }));
        }
        return new Comparison(summaries.get(0), summaries.get(1), acc.build());
    }

    /**
     * The outcome of {@link #compare}.
     *
     * @param first      what the first replay read
     * @param second     what the second replay read
     * @param comparison the two scorings side by side
     */
    public record Comparison(ReplaySummary first, ReplaySummary second, ScoringComparison comparison) {
    }

    /** A scored record's reward-model version: its scorers, each with its model version, joined by {@code +}. */
    static String versionLabel(ScoredGeneration scored) {
        if (scored.getScores().isEmpty()) {
            return "(none)";
        }
        StringBuilder label = new StringBuilder();
        for (SourceScore s : scored.getScores()) {
            if (!label.isEmpty()) {
                label.append('+');
            }
            label.append(s.getScorer());
            if (s.getModel() != null) {
                label.append("@v").append(s.getModel().getVersion());
            }
        }
        return label.toString();
    }

    /** The catalog's scored topic for its base or full name; any other name as given (a re-scored topic). */
    private String scoredName(String name) {
        String scored = topics.scored().name();
        return name.equals(topics.scored().baseName()) || name.equals(scored) ? scored : name;
    }

    /** A preference pair as an RMB pairwise item: chosen first; its category as the scenario. */
    static RmbItem item(PreferencePair pair) {
        List<RmbTurn> turns = new ArrayList<>();
        for (ConversationTurn t : pair.getConversation()) {
            turns.add(new RmbTurn(t.getRole().name().toLowerCase(Locale.ROOT), t.getContent(), null));
        }
        String category = pair.getCategory() == null ? "preferences/" + pair.getLabelSource().name().toLowerCase(
                Locale.ROOT) : pair.getCategory();
        return RmbItem.pairwise(pair.getPairId(), turns, new RmbResponse(null, pair.getChosen()),
                new RmbResponse(null, pair.getRejected()), category);
    }

    private void requireEnsemble(String topic) {
        if (ensemble == null) {
            throw new IllegalArgumentException("evaluating " + topic + " needs at least one --reward SPEC "
                    + "(e.g. --reward rule:length)");
        }
    }
}
