package io.streamrlhf.models.hf.safetensors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.hf.HfFormatException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsTest {

    @TempDir
    Path tmp;
    private NDManager manager;

    @BeforeAll
    static void start() {
        ModelRuntime.init(1);
    }

    @BeforeEach
    void open() {
        manager = ModelRuntime.init().newBaseManager();
    }

    @AfterEach
    void close() {
        manager.close();
    }

    private Map<String, NDArray> sample() {
        Map<String, NDArray> tensors = new LinkedHashMap<>();
        tensors.put("z.weight", manager.create(new float[] {1, -2, 3.5f, 0.25f, -0.125f, 7}, new Shape(2, 3)));
        tensors.put("a.bias", manager.create(new float[] {0.5f, -1.25f, 1024, 0}, new Shape(4)));
        return tensors;
    }

    @Test
    void f32RoundTripsExactlyInSavePretrainedsLayout() throws IOException {
        Path file = tmp.resolve("model.safetensors");
        SafetensorsWriter.write(file, sample(), SafetensorsDtype.F32);
        byte[] bytes = Files.readAllBytes(file);
        long headerLength = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertThat(headerLength % 8).isZero();
        JsonNode header = new ObjectMapper().readTree(new String(bytes, 8, (int) headerLength, StandardCharsets.UTF_8));
        assertThat(header.get("__metadata__").get("format").asText()).isEqualTo("pt");
        assertThat(List.of(header.fieldNames().next())).containsExactly("__metadata__");
        assertThat(header.get("a.bias").get("data_offsets").toString()).isEqualTo("[0,16]");
        assertThat(header.get("z.weight").get("data_offsets").toString()).isEqualTo("[16,40]");
        assertThat(bytes.length).isEqualTo(8 + headerLength + 40);

        SafetensorsFile read = SafetensorsFile.open(file);
        assertThat(read.metadata()).containsEntry("format", "pt");
        assertThat(read.tensors().keySet()).containsExactly("a.bias", "z.weight");
        NDArray z = read.load(manager, "z.weight");
        assertThat(z.getShape()).isEqualTo(new Shape(2, 3));
        assertThat(z.toFloatArray()).containsExactly(1, -2, 3.5f, 0.25f, -0.125f, 7);
    }

    @Test
    void bf16RoundsToNearestEvenAsPyTorchDoes() throws IOException {
        float one = 1f;
        float tieDown = 1f + (float) Math.pow(2, -8);       // halfway between 1 and 1 + 2^-7: to even, 1
        float tieUp = 1f + 3 * (float) Math.pow(2, -8);     // halfway between 1 + 2^-7 and 1 + 2^-6: to 1 + 2^-6
        float[] values = new float[64];
        values[0] = one;
        values[1] = tieDown;
        values[2] = tieUp;
        SplittableRandom random = new SplittableRandom(3);
        for (int i = 3; i < values.length; i++) {
            values[i] = (float) (random.nextDouble(-4, 4));
        }
        NDArray original = manager.create(values);
        SafetensorsWriter.write(tmp.resolve("b.safetensors"), Map.of("x", original), SafetensorsDtype.BF16);
        SafetensorsFile read = SafetensorsFile.open(tmp.resolve("b.safetensors"));
        assertThat(read.tensors().get("x").dtype()).isEqualTo(SafetensorsDtype.BF16);
        float[] back = read.load(manager, "x").toFloatArray();
        assertThat(back[0]).isEqualTo(1f);
        assertThat(back[1]).isEqualTo(1f);
        assertThat(back[2]).isEqualTo(1f + (float) Math.pow(2, -6));
        for (int i = 3; i < values.length; i++) {
            // the nearest bfloat16: within half a unit in the last of its 8 significant bits
            double halfUlp = Math.scalb(1.0, Math.getExponent(values[i]) - 8);
            assertThat((double) back[i]).as("value %d", i).isCloseTo(values[i], within(halfUlp));
            assertThat(Float.floatToRawIntBits(back[i]) & 0xFFFF).isZero();
        }
    }

    @Test
    void f16RoundTripsWithinItsPrecision() throws IOException {
        Map<String, NDArray> tensors = sample();
        SafetensorsWriter.write(tmp.resolve("h.safetensors"), tensors, SafetensorsDtype.F16);
        SafetensorsFile read = SafetensorsFile.open(tmp.resolve("h.safetensors"));
        assertThat(read.load(manager, "a.bias").toFloatArray()).containsExactly(0.5f, -1.25f, 1024, 0);
        NDArray third = manager.create(new float[] {0.1f, -0.3f});
        SafetensorsWriter.write(tmp.resolve("t.safetensors"), Map.of("t", third), SafetensorsDtype.F16);
        float[] back = SafetensorsFile.open(tmp.resolve("t.safetensors")).load(manager, "t").toFloatArray();
        assertThat((double) back[0]).isCloseTo(0.1, within(0.1 * Math.pow(2, -11)));
        assertThat((double) back[1]).isCloseTo(-0.3, within(0.3 * Math.pow(2, -11)));
        assertThat(back[0]).isNotEqualTo(0.1f);  // it was rounded: the dtype on disk was F16
    }

    @Test
    void loadedArraysOwnTheirMemoryAfterTheMappingIsCollected() throws Exception {
        Path file = tmp.resolve("model.safetensors");
        SafetensorsWriter.write(file, sample(), SafetensorsDtype.F32);
        NDArray z = SafetensorsFile.open(file).load(manager, "z.weight");
        Files.delete(file);
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(20);
        }
        assertThat(z.add(0).toFloatArray()).containsExactly(1, -2, 3.5f, 0.25f, -0.125f, 7);
    }

    @Test
    void shardedFolderReadsAsOneAndItsIndexListsEveryTensor() throws IOException {
        Map<String, NDArray> tensors = sample();
        tensors.put("m.weight", manager.create(new float[] {9, 8}, new Shape(2)));
        SafetensorsWriter.writeFolder(tmp, tensors, SafetensorsDtype.F32, 2);
        assertThat(tmp.resolve("model-00001-of-00002.safetensors")).exists();
        assertThat(tmp.resolve("model-00002-of-00002.safetensors")).exists();
        JsonNode index = new ObjectMapper().readTree(tmp.resolve(SafetensorsWeights.INDEX_FILE).toFile());
        assertThat(index.get("metadata").get("total_size").asLong()).isEqualTo(4 * (6 + 4 + 2));
        assertThat(index.get("weight_map").size()).isEqualTo(3);
        SafetensorsWeights weights = SafetensorsWeights.open(tmp);
        assertThat(weights.names()).containsExactly("a.bias", "m.weight", "z.weight");
        assertThat(weights.load(manager, "m.weight").toFloatArray()).containsExactly(9, 8);
        assertThat(weights.fileOf("z.weight").getFileName().toString()).isEqualTo("model-00002-of-00002.safetensors");
    }

    @Test
    void aShardTheIndexNamesThatIsMissingIsRefusedNamingItAndATensor() throws IOException {
        Map<String, NDArray> tensors = sample();
        tensors.put("m.weight", manager.create(new float[] {9, 8}, new Shape(2)));
        SafetensorsWriter.writeFolder(tmp, tensors, SafetensorsDtype.F32, 2);
        Files.delete(tmp.resolve("model-00002-of-00002.safetensors"));
        assertThatThrownBy(() -> SafetensorsWeights.open(tmp))
                .isInstanceOf(HfFormatException.class)
                .hasMessageContaining(SafetensorsWeights.INDEX_FILE)
                .hasMessageContaining("shard model-00002-of-00002.safetensors")
                .hasMessageContaining("(holding tensor m.weight)")
                .hasMessageContaining("missing");
    }

    @Test
    void corruptHeaderIsRefusedNamingTheFile() throws IOException {
        Path file = raw("corrupt.safetensors", "{\"x\": {\"dtype\": \"F32\", \"sha", new byte[8]);
        assertThatThrownBy(() -> SafetensorsFile.open(file))
                .isInstanceOf(HfFormatException.class)
                .hasMessageStartingWith(file.toString())
                .hasMessageContaining("corrupt safetensors header");
    }

    @Test
    void truncatedFileIsRefusedNamingTheFile() throws IOException {
        Path file = tmp.resolve("model.safetensors");
        SafetensorsWriter.write(file, sample(), SafetensorsDtype.F32);
        byte[] bytes = Files.readAllBytes(file);
        Files.write(file, java.util.Arrays.copyOf(bytes, 40));
        assertThatThrownBy(() -> SafetensorsFile.open(file))
                .isInstanceOf(HfFormatException.class)
                .hasMessageStartingWith(file.toString())
                .hasMessageContaining("truncated");
        Files.write(file, java.util.Arrays.copyOf(bytes, 5));
        assertThatThrownBy(() -> SafetensorsFile.open(file)).hasMessageContaining("truncated");
    }

    @Test
    void offsetsOutsideTheFileAreRefusedNamingFileAndTensor() throws IOException {
        Path file = raw("outside.safetensors",
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[1000],\"data_offsets\":[0,4000]}}", new byte[16]);
        assertThatThrownBy(() -> SafetensorsFile.open(file))
                .isInstanceOf(HfFormatException.class)
                .hasMessageStartingWith(file.toString())
                .hasMessageContaining("tensor w")
                .hasMessageContaining("outside the file's data (16 bytes)");
    }

    @Test
    void offsetsThatDisagreeWithTheShapeAreRefused() throws IOException {
        Path file = raw("short.safetensors",
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", new byte[8]);
        assertThatThrownBy(() -> SafetensorsFile.open(file))
                .hasMessageContaining("tensor w")
                .hasMessageContaining("needs 12");
    }

    @Test
    void anUnknownDtypeIsRefusedNamingFileTensorAndDtype() throws IOException {
        Path file = raw("ints.safetensors",
                "{\"ids\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[0,16]}}", new byte[16]);
        assertThatThrownBy(() -> SafetensorsFile.open(file))
                .isInstanceOf(HfFormatException.class)
                .hasMessageStartingWith(file.toString())
                .hasMessageContaining("tensor ids")
                .hasMessageContaining("dtype I64 is not supported");
    }

    @Test
    void writingTheSameTensorsTwiceGivesTheSameBytes() throws IOException {
        SafetensorsWriter.writeFolder(tmp.resolve("a"), sample(), SafetensorsDtype.BF16, 2);
        SafetensorsWriter.writeFolder(tmp.resolve("b"), sample(), SafetensorsDtype.BF16, 2);
        for (String name : List.of("model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors",
                SafetensorsWeights.INDEX_FILE)) {
            assertThat(Files.readAllBytes(tmp.resolve("a").resolve(name)))
                    .isEqualTo(Files.readAllBytes(tmp.resolve("b").resolve(name)));
        }
    }

    /** A file with the given header (padded to 8 bytes) and data. */
    private Path raw(String name, String header, byte[] data) throws IOException {
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        ByteBuffer b = ByteBuffer.allocate(8 + padded + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(padded).put(json);
        for (int i = json.length; i < padded; i++) {
            b.put((byte) ' ');
        }
        b.put(data);
        Path file = tmp.resolve(name);
        Files.write(file, b.array());
        return file;
    }
}
