package io.streamrlhf.models.engine;

import ai.djl.Device;
import ai.djl.engine.Engine;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one entry point that starts DJL's PyTorch engine for this process.
 *
 * <p>PyTorch sizes its intra-op and inter-op thread pools when the native library loads, so the
 * thread counts must be in the system properties before anything touches {@link Engine}; call
 * {@link #init(int)} first thing in {@code main} (tests call it too). Later calls return the engine
 * already started and log a warning if they ask for other thread counts.
 *
 * <p>Offline: unless the user set {@code ai.djl.offline} or {@code OPT_OUT_TRACKING}, this sets
 * {@code ai.djl.offline=true} so start-up neither downloads natives nor calls a telemetry address;
 * the CPU natives come from the {@code pytorch-native-cpu} jar. A user with a GPU points DJL at
 * their own libtorch (see {@code docs/models.md}); {@link #device()} then returns the GPU.
 */
public final class ModelRuntime {

    /** DJL's name of the PyTorch engine. */
    public static final String ENGINE = "PyTorch";

    private static final Logger LOG = LoggerFactory.getLogger(ModelRuntime.class);
    private static Engine engine;
    private static int startedThreads;

    private ModelRuntime() {
    }

    /**
     * Starts the PyTorch engine with {@code threads} intra-op threads and one inter-op thread.
     *
     * @param threads intra-op threads, or {@code <= 0} for PyTorch's own default (all cores)
     * @return the engine
     */
    public static synchronized Engine init(int threads) {
        if (engine != null) {
            if (threads > 0 && threads != startedThreads) {
                LOG.warn("PyTorch engine already started with {} threads; ignoring request for {}",
                        startedThreads, threads);
            }
            return engine;
        }
        if (System.getProperty("ai.djl.offline") == null && System.getenv("DJL_OFFLINE") == null) {
            System.setProperty("ai.djl.offline", "true");
        }
        if (threads > 0) {
            System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(threads));
            if (System.getProperty("ai.djl.pytorch.num_interop_threads") == null) {
                System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
            }
        }
        // DJL picks the default engine from the classpath; naming it keeps another engine on the
        // classpath (e.g. a user's OnnxRuntime) from being chosen by accident.
        System.setProperty("ai.djl.default_engine", ENGINE);
        engine = Engine.getEngine(ENGINE);
        startedThreads = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        LOG.info("DJL engine {} {} on {} ({} threads)", engine.getEngineName(), engine.getVersion(),
                engine.defaultDevice(), startedThreads);
        return engine;
    }

    /** Starts the engine with thread counts from system properties or PyTorch defaults. */
    public static Engine init() {
        return init(Integer.getInteger("ai.djl.pytorch.num_threads", 0));
    }

    /** The device models are placed on: the first GPU DJL finds, else the CPU. */
    public static Device device() {
        return init().defaultDevice();
    }

    /** Seeds PyTorch's global generator (used only where DJL draws random numbers natively). */
    public static void seed(long seed) {
        init().setRandomSeed((int) seed);
    }
}
