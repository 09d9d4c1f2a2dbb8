package io.streamrlhf.loop.stack;

import io.streamrlhf.loop.process.RestartingChildJvm;
import io.streamrlhf.loop.supervision.SupervisedComponent;
import java.util.List;

/**
 * The stack's own brokers ({@code rlhf cluster node} processes) as one supervised component: each is restarted on its
 * own when it dies (its data directory persists, so it rejoins and catches up), but they are stopped together, SIGTERM
 * to every node before waiting for any. One by one, the last nodes' controlled shutdown would wait out its grace for a
 * controller quorum that the first ones already took away.
 */
final class BrokerGroup implements SupervisedComponent {

    private final List<RestartingChildJvm> nodes;

    /** @param nodes the broker processes, not started yet */
    BrokerGroup(List<RestartingChildJvm> nodes) {
        this.nodes = List.copyOf(nodes);
    }

    @Override
    public String name() {
        return "the stack's brokers";
    }

    @Override
    public void start() {
        // All at once: none is ready until a majority of the quorum runs.
        nodes.forEach(RestartingChildJvm::start);
    }

    @Override
    public void check() {
        nodes.forEach(RestartingChildJvm::check);
    }

    @Override
    public void stop() {
        nodes.forEach(RestartingChildJvm::requestStop);
        nodes.forEach(RestartingChildJvm::stop);
    }
}
