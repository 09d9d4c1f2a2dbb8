package io.streamrlhf.embedded;

import java.lang.reflect.Method;
import java.util.Arrays;
import java.util.Optional;

/**
 * Entry point of the registry child process: it ties the child's life to its parent, then hands
 * over to the registry's own main class.
 *
 * <p>A shutdown hook in the parent stops the registry on a normal exit, but a parent killed with
 * SIGKILL (a Failsafe fork that timed out, {@code kill -9} on the CLI) runs no hooks. So the
 * child watches the parent's process handle and exits, running the registry's own shutdown, when
 * the parent is gone. No JDK or registry option does this, hence this small class.
 *
 * <p>This class runs alone on the child's class path (copied there by {@link EmbeddedRegistry}),
 * so it may use nothing but the JDK: no logging library, no other project class, no nested class.
 *
 * <p>Arguments: {@code <parent pid> <registry main class> [registry args...]}.
 */
public final class RegistryLauncher {

    private RegistryLauncher() {
    }

    /**
     * Starts the parent watch and then the registry.
     *
     * @param args the parent's pid, the registry's main class, then the registry's own arguments
     * @throws Exception whatever the registry's main method throws
     */
    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            throw new IllegalArgumentException("usage: RegistryLauncher <parent pid> <main class> [args...]");
        }
        long parentPid = Long.parseLong(args[0]);
        Optional<ProcessHandle> parent = ProcessHandle.of(parentPid);
        if (parent.isEmpty() || !parent.get().isAlive()) {
            System.err.println("parent process " + parentPid + " is already gone; not starting the registry");
            System.exit(3);
        }
        Thread watch = new Thread(() -> {
            parent.get().onExit().join();
            System.err.println("parent process " + parentPid + " exited; stopping the registry");
            System.exit(0);
        }, "parent-watch");
        watch.setDaemon(true);
        watch.start();

        Class<?> mainClass = Class.forName(args[1]);
        Method main = mainClass.getMethod("main", String[].class);
        main.invoke(null, (Object) Arrays.copyOfRange(args, 2, args.length));
    }
}
