package io.streamrlhf.loop.supervision;

import java.util.function.Supplier;

/**
 * One part of the loop as its {@link Supervisor} sees it, whether it runs on threads of this JVM or as a process of
 * its own: a name, a start, a failure check and an orderly stop.
 */
public interface SupervisedComponent {

    /** What the component is, for messages ("the PPO learner"). */
    String name();

    /** Starts it; returns once it runs (or has begun to). */
    void start();

    /**
     * Checks that it still runs as it should.
     *
     * @throws LoopFailureException naming the component and what happened when it failed or stopped by itself
     */
    void check();

    /** Stops it in order and releases what it holds; called once, whatever state it is in; may throw. */
    void stop() throws Exception;

    /**
     * A component whose start, failure and stop are given as functions (for parts from modules that know nothing of
     * supervision). Its failure reads "{@code <name> failed: <the error>}".
     *
     * @param name    what it is ("the prompt feeder")
     * @param start   starts it
     * @param failure its failure, or null while it runs as it should
     * @param stop    stops it
     */
    static SupervisedComponent of(String name, Runnable start, Supplier<Throwable> failure, AutoCloseable stop) {
        return new SupervisedComponent() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public void start() {
                start.run();
            }

            @Override
            public void check() {
                Throwable t = failure.get();
                if (t != null) {
                    throw new LoopFailureException(name + " failed: " + LoopFailureException.describe(t), t);
                }
            }

            @Override
            public void stop() throws Exception {
                stop.close();
            }
        };
    }

    /**
     * Something to close when the loop stops (a cluster, models) that has nothing to start or check.
     *
     * @param name     what it is, for messages
     * @param resource closed by {@link #stop()}
     */
    static SupervisedComponent resource(String name, AutoCloseable resource) {
        return of(name, () -> { }, () -> null, resource);
    }
}
