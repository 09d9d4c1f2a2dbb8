package io.streamrlhf.schemas.serde;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrlhf.schemas.avro.Feedback;
import io.streamrlhf.schemas.avro.FeedbackKind;
import io.streamrlhf.schemas.avro.FeedbackSource;
import io.streamrlhf.schemas.avro.PairVerdict;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Instant;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.junit.jupiter.api.Test;

/**
 * {@code Feedback.verdict} (tie, both bad) both ways against the released schema: a reader of the released schema
 * reads a tie written now (without the verdict it does not know), and today's reader reads a released record with
 * a null verdict.
 */
class FeedbackVerdictEvolutionTest {

    private static Schema released() throws IOException {
        try (InputStream in = FeedbackVerdictEvolutionTest.class.getResourceAsStream(
                "/contract-snapshots/Feedback.avsc")) {
            return new Schema.Parser().parse(in);
        }
    }

    @Test
    void theReleasedReaderReadsATieAndTodaysReaderReadsReleasedRecords() throws Exception {
        GeneratedClassTrust.ensureContractsTrusted();
        Feedback tie = Feedback.newBuilder().setFeedbackId("f-tie").setPromptId("p").setKind(FeedbackKind.PAIRWISE)
                .setGenerationIds(List.of("g-a", "g-b")).setVerdict(PairVerdict.TIE).setConfidence(0.75)
                .setComment("same").setAnnotatorId("alice").setSource(FeedbackSource.HUMAN)
                .setCreatedAt(Instant.parse("2026-12-01T00:00:00Z")).build();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(bytes, null);
        new SpecificDatumWriter<>(Feedback.class).write(tie, encoder);
        encoder.flush();

        Schema released = released();
        GenericRecord old = new GenericDatumReader<GenericRecord>(Feedback.getClassSchema(), released)
                .read(null, DecoderFactory.get().binaryDecoder(bytes.toByteArray(), null));
        assertThat(old.getSchema().getField("verdict")).isNull();
        assertThat(old.get("preferred_index")).isNull();
        assertThat(old.get("comment").toString()).isEqualTo("same");
        assertThat(old.get("confidence")).isEqualTo(0.75);

        GenericRecord written = new GenericData.Record(released);
        for (Schema.Field f : released.getFields()) {
            written.put(f.name(), old.get(f.name()));
        }
        written.put("preferred_index", 1);
        ByteArrayOutputStream oldBytes = new ByteArrayOutputStream();
        BinaryEncoder oldEncoder = EncoderFactory.get().binaryEncoder(oldBytes, null);
        new GenericDatumWriter<GenericRecord>(released).write(written, oldEncoder);
        oldEncoder.flush();
        Feedback now = new SpecificDatumReader<Feedback>(released, Feedback.getClassSchema())
                .read(null, DecoderFactory.get().binaryDecoder(oldBytes.toByteArray(), null));
        assertThat(now.getVerdict()).isNull();
        assertThat(now.getPreferredIndex()).isEqualTo(1);
        assertThat(now.getFeedbackId()).isEqualTo("f-tie");
    }
}
