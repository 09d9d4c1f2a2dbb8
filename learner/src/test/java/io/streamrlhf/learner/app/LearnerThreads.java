package io.streamrlhf.learner.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Learners run on threads of their own in the failover tests, and the waits those tests share. */
final class LearnerThreads {
    private static final Logger LOG = LoggerFactory.getLogger(LearnerThreads.class);

    private LearnerThreads() {
    }

    /** Runs {@code learner} on a thread {@code name}, added to {@code threads}; a failure lands in {@code failure}. */
    static Thread start(LearnerService learner, String name, List<Thread> threads, AtomicReference<Throwable> failure) {
        Thread t = new Thread(() -> {
            try {
                learner.run();
            } catch (Throwable e) {
                LOG.error("{} failed", name, e);
                failure.compareAndSet(null, e);
            }
        }, name);
        threads.add(t);
        t.start();
        return t;
    }

    /** Waits until {@code condition} holds, failing with {@code what} after {@code seconds}. */
    static void awaitTrue(BooleanSupplier condition, int seconds, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as(what + " within " + seconds + " s").isLessThan(deadline);
            Thread.sleep(20);
        }
    }

    /** Waits up to two minutes for {@code latch} (a test hook holding a learner back). */
    static void await(CountDownLatch latch) {
        try {
            latch.await(120, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
