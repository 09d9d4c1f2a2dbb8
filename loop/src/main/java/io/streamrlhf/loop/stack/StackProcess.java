package io.streamrlhf.loop.stack;

import io.streamrlhf.loop.process.RestartingChildJvm.Restart;
import java.util.List;
import java.util.Objects;

/**
 * One process of a stack.
 *
 * @param name    its name in the stack ({@code worker-0}); also its log file's stem
 * @param kind    what it runs
 * @param args    the {@code rlhf} command line it runs (after the launcher)
 * @param group   the consumer group whose lag {@code rlhf stack status} shows; null for none
 * @param restart which of its exits a restart repairs
 * @param heapMb  its JVM's -Xmx
 */
public record StackProcess(String name, ProcessKind kind, List<String> args, String group, Restart restart,
                           int heapMb) {

    public StackProcess {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(kind, "kind");
        args = List.copyOf(args);
        Objects.requireNonNull(restart, "restart");
    }

    /** Its command line without the flags that differ between instances of its kind (what compose runs). */
    public List<String> sharedArgs() {
        List<String> out = new java.util.ArrayList<>();
        for (int i = 0; i < args.size(); i++) {
            if (kind.instanceFlags().contains(args.get(i))) {
                i++;  // and its value
            } else {
                out.add(args.get(i));
            }
        }
        return out;
    }
}
