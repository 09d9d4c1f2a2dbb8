package io.streamrlhf.loop.component;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamrlhf.loop.supervision.SupervisedComponent;
import io.streamrlhf.models.world.GoldReward;
import io.streamrlhf.models.world.SimulatedRater;
import io.streamrlhf.producer.feedback.GenerationTail;
import io.streamrlhf.producer.feedback.KafkaFeedbackSink;
import io.streamrlhf.producer.feedback.RecentGenerations;
import io.streamrlhf.producer.feedback.SimulatedRaters;
import io.streamrlhf.schemas.topics.Topics;
import java.util.Map;

/**
 * Simulated raters labelling pairs of fresh generations: a tail of {@code generations} keeps the recent ones, the
 * raters compare two samples of a prompt by the gold reward (with the rater's noise) and write {@code feedback}, which
 * the reward stream joins into {@code preferences}.
 */
public final class SimulatedFeedback implements SupervisedComponent {

    /** Recent generations the raters pick pairs from. */
    static final int RECENT_GENERATIONS = 256;

    private final Topics topics;
    private final Map<String, Object> settings;
    private final int groupSize;
    private final GoldReward gold;
    private final SimulatedRater rater;
    private final String annotator;
    private final long seed;
    private final double labelsPerSecond;
    private GenerationTail tail;
    private KafkaFeedbackSink sink;
    private SimulatedRaters raters;

    /**
     * @param topics          the catalog
     * @param settings        cluster keys for the tail's consumer and the sink's producer
     * @param groupSize       samples per prompt
     * @param gold            the reward the raters label by
     * @param rater           the raters' noise
     * @param annotator       the annotator name on the feedback
     * @param seed            seeds the choice of pairs
     * @param labelsPerSecond how fast they label
     */
    public SimulatedFeedback(Topics topics, Map<String, Object> settings, int groupSize, GoldReward gold,
                             SimulatedRater rater, String annotator, long seed, double labelsPerSecond) {
        this.topics = topics;
        this.settings = Map.copyOf(settings);
        this.groupSize = groupSize;
        this.gold = gold;
        this.rater = rater;
        this.annotator = annotator;
        this.seed = seed;
        this.labelsPerSecond = labelsPerSecond;
    }

    @Override
    public String name() {
        return "the simulated raters";
    }

    @Override
    public void start() {
        RecentGenerations recent = new RecentGenerations(RECENT_GENERATIONS, groupSize);
        tail = new GenerationTail(topics, settings, recent, 0).start();
        sink = new KafkaFeedbackSink(topics, settings);
        raters = new SimulatedRaters(recent, sink, gold, rater, annotator, seed, new SimpleMeterRegistry());
        raters.start(labelsPerSecond);
    }

    @Override
    public void check() {
        // The raters' own thread logs and retries; a lost label only slows the reward-model trainer.
    }

    @Override
    public void stop() throws Exception {
        Exception first = null;
        for (AutoCloseable c : new AutoCloseable[] {raters, sink, tail}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
