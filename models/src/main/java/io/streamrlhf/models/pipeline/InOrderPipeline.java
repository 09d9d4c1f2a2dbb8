package io.streamrlhf.models.pipeline;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs tasks one after another, in submission order, on a thread of its own while the owner goes on, and gives their
 * results back oldest first. At most {@link #aheadLimit()} tasks are submitted and not yet taken back: one running,
 * the rest queued, so the thread goes from task to task without waiting for the owner to wake up, and no more work
 * is taken on than the owner will soon consume.
 *
 * <p>Each task carries a tag: what the owner needs of it when its result comes back (its records, its prompts), and
 * what the owner may still change while it runs. Tasks run strictly one after another, so a task may start from
 * state its predecessor left.
 *
 * <p>{@link #inline} runs each task on the submitting thread instead, at once, with the same interface, for owners
 * that pipeline only optionally.
 *
 * <p>Not thread-safe: one owner thread submits, takes and stops; only the tasks run on the pipeline's thread.
 *
 * @param <T> the tag that travels with a task
 * @param <R> a task's result
 */
public final class InOrderPipeline<T, R> {
    private static final Logger LOG = LoggerFactory.getLogger(InOrderPipeline.class);

    private final String name;
    /** Null when tasks run inline. */
    private final ExecutorService executor;
    private final int aheadLimit;
    private final ArrayDeque<Entry<T, R>> inFlight = new ArrayDeque<>();

    private InOrderPipeline(String name, ExecutorService executor, int aheadLimit) {
        if (aheadLimit < 1) {
            throw new IllegalArgumentException("the ahead limit must be >= 1, got " + aheadLimit);
        }
        this.name = name;
        this.executor = executor;
        this.aheadLimit = aheadLimit;
    }

    /**
     * A pipeline whose tasks run on one daemon thread named {@code threadName} (started with the first task).
     *
     * @param aheadLimit tasks submitted and not yet taken back, at most
     */
    public static <T, R> InOrderPipeline<T, R> onThread(String threadName, int aheadLimit) {
        ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, threadName);
            t.setDaemon(true);
            return t;
        });
        return new InOrderPipeline<>(threadName, executor, aheadLimit);
    }

    /** A pipeline whose tasks run on the submitting thread, inside {@link #submit}. */
    public static <T, R> InOrderPipeline<T, R> inline(int aheadLimit) {
        return new InOrderPipeline<>("inline", null, aheadLimit);
    }

    /** Tasks submitted and not yet taken back, at most. */
    public int aheadLimit() {
        return aheadLimit;
    }

    /** Tasks submitted and not yet taken back. */
    public int size() {
        return inFlight.size();
    }

    /** Whether no task is in flight (the thread is idle, or about to be). */
    public boolean isEmpty() {
        return inFlight.isEmpty();
    }

    /** Whether {@link #aheadLimit()} tasks are in flight, so {@link #submit} would refuse another. */
    public boolean isFull() {
        return inFlight.size() >= aheadLimit;
    }

    /** The tags of the tasks in flight, oldest first (a copy). */
    public List<T> tags() {
        List<T> tags = new ArrayList<>(inFlight.size());
        for (Entry<T, R> e : inFlight) {
            tags.add(e.tag());
        }
        return tags;
    }

    /** The oldest task's tag; {@code null} when none is in flight. */
    public T oldest() {
        Entry<T, R> e = inFlight.peekFirst();
        return e == null ? null : e.tag();
    }

    /** Whether the oldest task has finished (its result is ready); false when none is in flight. */
    public boolean oldestDone() {
        Entry<T, R> e = inFlight.peekFirst();
        return e != null && e.result().isDone();
    }

    /**
     * Queues a task behind those in flight (inline: runs it now).
     *
     * @throws IllegalStateException when {@link #isFull()}
     */
    public void submit(T tag, Callable<R> task) {
        if (isFull()) {
            throw new IllegalStateException(name + ": " + aheadLimit + " tasks are in flight already");
        }
        FutureTask<R> future = new FutureTask<>(task);
        if (executor == null) {
            future.run();
        } else {
            executor.execute(future);
        }
        inFlight.addLast(new Entry<>(tag, future));
    }

    /**
     * Removes the oldest task and waits for its result.
     *
     * @throws ExecutionException     the task threw (its cause); the task is removed all the same
     * @throws NoSuchElementException when no task is in flight
     */
    public R takeOldest() throws InterruptedException, ExecutionException {
        Entry<T, R> e = inFlight.pollFirst();
        if (e == null) {
            throw new NoSuchElementException(name + ": no task in flight");
        }
        return e.result().get();
    }

    /**
     * Throws every task in flight away: waits until each has finished (so the thread is idle and nothing a task
     * touches is still in use), drops their results and failures, and returns their tags, oldest first.
     */
    public List<T> discardAll() throws InterruptedException {
        List<T> tags = tags();
        for (Entry<T, R> e : inFlight) {
            try {
                e.result().get();
            } catch (ExecutionException ex) {
                LOG.debug("{}: a discarded task failed: {}", name, ex.getCause().toString());
            }
        }
        inFlight.clear();
        return tags;
    }

    /**
     * Takes no more tasks, lets the queued ones run (a task that should not may check a flag of its owner's), and
     * waits up to {@code wait} for the thread to end. Returns whether it ended; always true inline.
     */
    public boolean stop(Duration wait) throws InterruptedException {
        if (executor == null) {
            return true;
        }
        executor.shutdown();
        return executor.awaitTermination(wait.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * Forgets every task in flight without waiting: interrupts the running one, drops the queued ones unrun. For an
     * owner that starts afresh while an old task may still run; whatever that task touches must be its own.
     */
    public void abandon() {
        inFlight.clear();
        if (executor != null) {
            executor.shutdownNow();
        }
    }

    private record Entry<T, R>(T tag, Future<R> result) {
    }
}
