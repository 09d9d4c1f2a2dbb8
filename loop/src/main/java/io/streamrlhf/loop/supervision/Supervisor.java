package io.streamrlhf.loop.supervision;

import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts components in order, checks them all, and stops them in reverse order whatever happens. A component is
 * registered before its start, so one that fails half-way through starting is stopped too; a failure to stop one is
 * logged and never hides the run's own error nor keeps the others running.
 *
 * <pre>{@code
 * try (Supervisor supervisor = new Supervisor()) {
 *     supervisor.start(stream);
 *     supervisor.start(learner);
 *     while (running) {
 *         supervisor.check();  // throws LoopFailureException naming the component
 *     }
 * }  // learner, then stream
 * }</pre>
 */
public final class Supervisor implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Supervisor.class);

    private final List<SupervisedComponent> running = new ArrayList<>();

    /**
     * Starts {@code component} and keeps it for {@link #check()} and {@link #close()}.
     *
     * @return the component
     */
    public synchronized <C extends SupervisedComponent> C start(C component) {
        running.add(component);
        component.start();
        return component;
    }

    /** Checks every running component, in the order they started; the first failure is thrown. */
    public synchronized void check() {
        for (SupervisedComponent c : running) {
            c.check();
        }
    }

    /** Stops one component now (an orderly stop of part of the loop) and forgets it; nothing if already stopped. */
    public synchronized void stop(SupervisedComponent component) {
        if (running.remove(component) && stopQuietly(component)) {
            Thread.currentThread().interrupt();
        }
    }

    /** The components still running, in the order they started. */
    public synchronized List<SupervisedComponent> running() {
        return List.copyOf(running);
    }

    /** Stops every component still running, newest first. */
    @Override
    public synchronized void close() {
        boolean interrupted = false;
        for (int i = running.size() - 1; i >= 0; i--) {
            interrupted |= stopQuietly(running.get(i));
        }
        running.clear();
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Stops one component, logging a failure. An interrupt is remembered rather than re-asserted at once: the
     * components after this one must still be stopped, and their waits would end at once on an interrupted thread.
     *
     * @return whether the thread was interrupted meanwhile
     */
    private static boolean stopQuietly(SupervisedComponent c) {
        try {
            c.stop();
            return Thread.interrupted();
        } catch (InterruptedException e) {
            LOG.warn("interrupted while stopping {}", c.name());
            return true;
        } catch (Exception e) {
            LOG.warn("while stopping {}: {}", c.name(), e.toString());
            return Thread.interrupted();
        }
    }
}
