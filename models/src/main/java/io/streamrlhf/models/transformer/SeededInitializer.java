package io.streamrlhf.models.transformer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.initializer.Initializer;
import java.util.SplittableRandom;

/**
 * Normal(0, std) weights drawn from a seeded Java generator, so a given seed gives the same model
 * in every process and on every device (PyTorch's global generator is shared state and differs
 * between CPU and GPU). Parameters are initialised in block order, which is fixed.
 */
public final class SeededInitializer implements Initializer {

    private final SplittableRandom random;
    private final double std;

    /** Draws from N(0, std^2) with the given seed. */
    public SeededInitializer(long seed, double std) {
        this.random = new SplittableRandom(seed);
        this.std = std;
    }

    @Override
    public NDArray initialize(NDManager manager, Shape shape, DataType dataType) {
        float[] values = new float[Math.toIntExact(shape.size())];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) (gaussian() * std);
        }
        return manager.create(values, shape).toType(dataType, false);
    }

    // Box-Muller; SplittableRandom has no nextGaussian on Java 17.
    private double gaussian() {
        double u1 = random.nextDouble();
        double u2 = random.nextDouble();
        return Math.sqrt(-2.0 * Math.log(1.0 - u1)) * Math.cos(2.0 * Math.PI * u2);
    }
}
