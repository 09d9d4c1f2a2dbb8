package io.streamrlhf.producer.feedback;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.streamrlhf.models.world.GoldReward;
import io.streamrlhf.models.world.SimulatedRater;
import io.streamrlhf.schemas.avro.Feedback;
import io.streamrlhf.schemas.avro.FeedbackKind;
import io.streamrlhf.schemas.avro.FeedbackSource;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The synthetic world's raters labelling pairs of recent generations at a steady rate: a pair of one prompt is
 * drawn from {@link RecentGenerations}, both responses are scored by the hidden gold reward, and a
 * {@link SimulatedRater} chooses by its Bradley–Terry draw (with its share of flipped labels). Each label is a
 * PAIRWISE {@link Feedback} with source SIMULATED, annotator {@code sim-<name>}, and the rater's unflipped
 * preference probability for the chosen response as its confidence. A pair is labelled at most once.
 */
public final class SimulatedRaters implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(SimulatedRaters.class);
    private static final int REMEMBERED_PAIRS = 100_000;
    /** How often a group of labels goes out. */
    static final long TICK_MS = 200;

    private final RecentGenerations recent;
    private final FeedbackSink sink;
    private final GoldReward gold;
    private final SimulatedRater rater;
    private final String annotator;
    private final Random random;
    private final Clock clock;
    private final Counter labelled;
    private final LinkedHashSet<String> done = new LinkedHashSet<>();
    private volatile boolean running;
    private volatile Thread thread;

    /**
     * @param recent    the window of generations to draw pairs from
     * @param sink      where labels go
     * @param gold      the world's gold reward
     * @param rater     the rater model (τ, flip share, seed)
     * @param name      names the annotator ({@code sim-<name>})
     * @param seed      seeds the pair draws
     * @param meters    where the label counter goes
     */
    public SimulatedRaters(RecentGenerations recent, FeedbackSink sink, GoldReward gold, SimulatedRater rater,
                           String name, long seed, MeterRegistry meters) {
        this.recent = recent;
        this.sink = sink;
        this.gold = gold;
        this.rater = rater;
        this.annotator = "sim-" + name;
        this.random = new Random(seed);
        this.clock = Clock.systemUTC();
        this.labelled = Counter.builder("rlhf.feedback.simulated").tag("annotator", annotator).register(meters);
    }

    /**
     * Labels one new pair, if there is one.
     *
     * @return the label written
     */
    public Optional<Feedback> labelOnce() {
        return labelBatch(1).stream().findFirst();
    }

    /**
     * Labels up to {@code max} new pairs and writes them together ({@link FeedbackSink#writeAll}): one request for
     * the group instead of one per label. Pairs are marked done only once written.
     *
     * @return the labels written, fewer than {@code max} when there were not enough new pairs
     */
    public synchronized List<Feedback> labelBatch(int max) {
        List<Feedback> labels = new ArrayList<>(max);
        Set<String> keys = new HashSet<>();
        for (int attempt = 0; attempt < 20 * max && labels.size() < max; attempt++) {
            Optional<RecentGenerations.Pair> drawn = recent.randomPair(random);
            if (drawn.isEmpty()) {
                break;
            }
            RecentGenerations.Pair pair = drawn.get();
            String a = pair.first().getGenerationId();
            String b = pair.second().getGenerationId();
            String key = a.compareTo(b) < 0 ? a + "|" + b : b + "|" + a;
            if (done.contains(key) || !keys.add(key)) {
                continue;
            }
            labels.add(label(pair, a, b));
        }
        if (labels.isEmpty()) {
            return labels;
        }
        sink.writeAll(labels);
        for (String key : keys) {
            done.add(key);
            if (done.size() > REMEMBERED_PAIRS) {
                done.remove(done.iterator().next());
            }
        }
        labelled.increment(labels.size());
        return labels;
    }

    private Feedback label(RecentGenerations.Pair pair, String a, String b) {
        double goldA = gold.scoreText(pair.promptText(), pair.first().getResponseText()).total();
        double goldB = gold.scoreText(pair.promptText(), pair.second().getResponseText()).total();
        SimulatedRater.Decision d = rater.compare(goldA, goldB);
        int preferred = d.prefersA() ? 0 : 1;
        return Feedback.newBuilder().setFeedbackId(UUID.randomUUID().toString())
                .setPromptId(pair.promptId()).setKind(FeedbackKind.PAIRWISE).setGenerationIds(List.of(a, b))
                .setConversation(List.of()).setTexts(List.of()).setRating(null)
                .setPreferredIndex(preferred)
                .setConfidence(preferred == 0 ? d.probability() : 1 - d.probability())
                .setAnnotatorId(annotator).setSource(FeedbackSource.SIMULATED)
                .setComment(String.format(java.util.Locale.ROOT, "gold %.3f vs %.3f%s", goldA, goldB,
                        d.flipped() ? ", flipped" : ""))
                .setCreatedAt(clock.instant()).build();
    }

    /** Labels written so far. */
    public long labelled() {
        return (long) labelled.count();
    }

    /** Starts labelling at {@code perSecond} on a daemon thread (pairs permitting), until closed. */
    public void start(double perSecond) {
        start(perSecond, 0);
    }

    /**
     * Starts labelling at {@code perSecond} on a daemon thread (pairs permitting); the thread stops by itself after
     * {@code limit} labels in all ({@code <= 0}: until closed). Groups are cut short so that the limit is exact.
     */
    public void start(double perSecond, long limit) {
        if (!(perSecond > 0)) {
            throw new IllegalArgumentException("simulated rater rate must be > 0 labels/s, got " + perSecond);
        }
        running = true;
        thread = new Thread(() -> {
            // Labels go out in groups, one group per tick: at 50 labels/s that is 5 produce requests a second
            // instead of 50 (and as many fewer wake-ups of the reward stream), for at most a tick of delay.
            long last = System.nanoTime();
            double owed = 0;
            while (running) {
                try {
                    Thread.sleep(TICK_MS);
                    long now = System.nanoTime();
                    // No catching up in a burst after a stall: at most one second's labels at once.
                    owed = Math.min(owed + (now - last) * perSecond / 1e9, Math.max(1, perSecond));
                    last = now;
                    int due = (int) owed;
                    if (limit > 0) {
                        long left = limit - labelled();
                        if (left <= 0) {
                            return;
                        }
                        due = (int) Math.min(due, left);
                    }
                    if (due == 0) {
                        continue;
                    }
                    int written = labelBatch(due).size();
                    // Fewer new pairs than due: nothing is owed for the time there was nothing to label.
                    owed = written < due ? 0 : owed - written;
                } catch (InterruptedException e) {
                    return;
                } catch (RuntimeException e) {
                    if (!running) {
                        return;  // close() interrupted a write: stopping, not a failure
                    }
                    LOG.warn("simulated rater {} could not write a label: {}", annotator, e.getMessage());
                    try {
                        Thread.sleep(1000);
                    } catch (InterruptedException ie) {
                        return;
                    }
                    last = System.nanoTime();
                    owed = 0;
                }
            }
        }, "simulated-raters");
        thread.setDaemon(true);
        thread.start();
    }

    @Override
    public void close() {
        running = false;
        Thread t = thread;  // not under the lock: labelBatch may hold it while a write waits
        if (t != null) {
            t.interrupt();
            try {
                t.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
