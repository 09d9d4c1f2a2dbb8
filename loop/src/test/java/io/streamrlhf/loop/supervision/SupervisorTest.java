package io.streamrlhf.loop.supervision;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class SupervisorTest {

    private final List<String> events = new ArrayList<>();

    /** A component that records its start and stop, and fails its start or stop when told to. */
    private SupervisedComponent component(String name, boolean failStart, boolean failStop) {
        return new SupervisedComponent() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public void start() {
                events.add("start " + name);
                if (failStart) {
                    throw new IllegalStateException(name + " cannot start");
                }
            }

            @Override
            public void check() {
            }

            @Override
            public void stop() {
                events.add("stop " + name);
                if (failStop) {
                    throw new IllegalStateException(name + " cannot stop");
                }
            }
        };
    }

    @Test
    void stopsInReverseOrderEvenWhenAStopFails() {
        try (Supervisor s = new Supervisor()) {
            s.start(component("a", false, false));
            s.start(component("b", false, true));
            s.start(component("c", false, false));
        }
        assertThat(events).containsExactly("start a", "start b", "start c", "stop c", "stop b", "stop a");
    }

    @Test
    void aComponentThatFailsToStartIsStoppedWithTheOthers() {
        Supervisor s = new Supervisor();
        s.start(component("a", false, false));
        assertThatThrownBy(() -> s.start(component("b", true, false))).hasMessage("b cannot start");
        s.close();
        assertThat(events).containsExactly("start a", "start b", "stop b", "stop a");
        assertThat(s.running()).isEmpty();
    }

    @Test
    void aComponentStoppedEarlyIsNotStoppedAgain() {
        Supervisor s = new Supervisor();
        SupervisedComponent a = s.start(component("a", false, false));
        SupervisedComponent b = s.start(component("b", false, false));
        s.stop(a);
        s.stop(a);
        assertThat(s.running()).containsExactly(b);
        s.close();
        assertThat(events).containsExactly("start a", "start b", "stop a", "stop b");
    }

    @Test
    void checkThrowsTheFirstFailureNamingTheComponent() {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        try (Supervisor s = new Supervisor()) {
            s.start(SupervisedComponent.of("the prompt feeder", () -> events.add("fed"), failure::get,
                    () -> events.add("closed")));
            s.check();
            failure.set(new IllegalStateException("broker gone", new RuntimeException("connection refused")));
            assertThatThrownBy(s::check).isInstanceOf(LoopFailureException.class)
                    .hasMessage("the prompt feeder failed: IllegalStateException: broker gone (connection refused)")
                    .hasCause(failure.get());
        }
        assertThat(events).containsExactly("fed", "closed");
    }

    @Test
    void aResourceIsOnlyClosed() throws Exception {
        SupervisedComponent r = SupervisedComponent.resource("the cluster", () -> events.add("closed"));
        r.start();
        r.check();
        assertThat(events).isEmpty();
        r.stop();
        assertThat(r.name()).isEqualTo("the cluster");
        assertThat(events).containsExactly("closed");
    }
}
