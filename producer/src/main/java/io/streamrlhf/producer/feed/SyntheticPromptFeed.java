package io.streamrlhf.producer.feed;

import io.streamrlhf.models.world.PromptGenerator;
import io.streamrlhf.models.world.SyntheticWorld;
import io.streamrlhf.models.world.WorldPrompt;
import io.streamrlhf.schemas.avro.ConversationTurn;
import io.streamrlhf.schemas.avro.Prompt;
import io.streamrlhf.schemas.avro.Role;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.ToIntFunction;

/**
 * The synthetic world's prompts ("write about the ocean :") at a steady rate. Prompts due in each tick (100 ms)
 * go out together; ids are {@code synthetic-<seed>-<n>}, the category is the topic.
 *
 * <p>A feed restarted with the same seed {@link #resumeAfter resumes} after the last id its predecessor sent, with
 * the draws it would have made: the prompts are those of one uninterrupted feed, and no id is sent twice (a worker
 * de-duplicates by prompt id, so a repeated id would be a prompt silently never answered again). A fresh seed per
 * restart would also avoid repeats, but the stream would then depend on when the feed was restarted.
 */
public final class SyntheticPromptFeed {

    private static final long TICK_NANOS = 100_000_000L;

    private final PromptGenerator generator;
    private final long seed;
    private final int samplesPerPrompt;
    private long next;

    /**
     * @param seed             seeds the prompt draws (and names the ids)
     * @param samplesPerPrompt samples each prompt asks for
     */
    public SyntheticPromptFeed(long seed, int samplesPerPrompt) {
        this.generator = SyntheticWorld.standard().prompts(seed);
        this.seed = seed;
        this.samplesPerPrompt = samplesPerPrompt;
    }

    /**
     * Skips the prompts up to and including index {@code last} (the draws too), so the next one is {@code last + 1}.
     *
     * @param last the highest index already sent with this seed ({@link #lastIndex}), or -1 for none
     * @return this feed
     */
    public SyntheticPromptFeed resumeAfter(long last) {
        if (last < next - 1) {
            throw new IllegalArgumentException("cannot resume after index " + last + ": index " + (next - 1)
                    + " was sent already");
        }
        while (next <= last) {
            generator.next();
            next++;
        }
        return this;
    }

    /** The highest index among {@code ids} of prompts this seed's feed sent ({@code synthetic-<seed>-<n>}), or -1. */
    public static long lastIndex(Iterable<String> ids, long seed) {
        String prefix = "synthetic-" + seed + "-";
        long last = -1;
        for (String id : ids) {
            if (id != null && id.startsWith(prefix)) {
                try {
                    last = Math.max(last, Long.parseLong(id.substring(prefix.length())));
                } catch (NumberFormatException e) {
                    // another feed's id that happens to share the prefix
                }
            }
        }
        return last;
    }

    /** The next {@code n} prompts. */
    public List<Prompt> next(int n) {
        List<Prompt> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            WorldPrompt w = generator.next();
            out.add(Prompt.newBuilder().setPromptId("synthetic-" + seed + "-" + next++)
                    .setConversation(List.of(new ConversationTurn(Role.USER, w.text()))).setCategory(w.topic())
                    .setSamplesPerPrompt(samplesPerPrompt).setSource("synthetic")
                    .setMetadata(Map.of("topic", w.topic())).setCreatedAt(Instant.now()).build());
        }
        return out;
    }

    /**
     * Sends prompts at {@code perSecond} until {@code count} are sent or {@code duration} has passed (either may
     * be unbounded: count &lt;= 0, duration null), or the thread is interrupted.
     *
     * @param sink sends a tick's prompts and returns how many it sent (e.g. {@link PromptSender#sendAll})
     * @return prompts sent
     */
    public long run(double perSecond, long count, Duration duration, ToIntFunction<List<Prompt>> sink) {
        if (!(perSecond > 0)) {
            throw new IllegalArgumentException("--rate must be > 0 prompts/s, got " + perSecond);
        }
        long start = System.nanoTime();
        long end = duration == null ? Long.MAX_VALUE : start + duration.toNanos();
        long sent = 0;
        while (!Thread.currentThread().isInterrupted() && (count <= 0 || sent < count) && System.nanoTime() < end) {
            long due = (long) Math.floor((System.nanoTime() - start) / 1e9 * perSecond) + 1 - sent;
            if (count > 0) {
                due = Math.min(due, count - sent);
            }
            if (due > 0) {
                sent += sink.applyAsInt(next((int) Math.min(due, 10_000)));
            }
            try {
                Thread.sleep(TICK_NANOS / 1_000_000L);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return sent;
    }
}
