package io.streamrlhf.loop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.streamrlhf.embedded.EmbeddedCluster;
import io.streamrlhf.learner.app.LearnerConfig;
import io.streamrlhf.learner.checkpoint.LearnerCheckpoint;
import io.streamrlhf.learner.checkpoint.LearnerCheckpointStore;
import io.streamrlhf.learner.ppo.PpoConfig;
import io.streamrlhf.loop.component.LearnerComponent;
import io.streamrlhf.loop.component.RewardStreamComponent;
import io.streamrlhf.loop.component.WorkerPoolComponent;
import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.hf.HfCausalLm;
import io.streamrlhf.models.hf.HfExport;
import io.streamrlhf.models.hf.HfPolicy;
import io.streamrlhf.models.hf.TinyHfModels;
import io.streamrlhf.models.hf.safetensors.SafetensorsDtype;
import io.streamrlhf.models.load.PolicyLoader;
import io.streamrlhf.producer.feed.PromptSender;
import io.streamrlhf.producer.worker.WorkerConfig;
import io.streamrlhf.producer.worker.WorkerPool;
import io.streamrlhf.rewardstream.app.RewardStreamConfig;
import io.streamrlhf.schemas.avro.ConversationTurn;
import io.streamrlhf.schemas.avro.Generation;
import io.streamrlhf.schemas.avro.Prompt;
import io.streamrlhf.schemas.avro.Role;
import io.streamrlhf.schemas.topics.CatalogTopics;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole loop on a user's models: a tiny random Qwen2-format policy folder (with its tokenizer and chat template)
 * and a tiny Hugging Face sequence-classification reward model, on the embedded cluster. Prompts go through the
 * worker (the policy's chat template, sampled on tensors), the reward stream scores them with {@code hf:DIR} and
 * computes the reference's log-probs from the same folder, the learner trains the folder with a value head and
 * publishes a new version, and the worker swaps to it. The learner's newest version, exported as a Hugging Face
 * folder, reloads as a plain causal LM with the learner's logits.
 */
class HfModelLoopIT {

    private static final Duration DEADLINE = Duration.ofMinutes(4);

    @TempDir
    Path tmp;

    @Test
    void aHuggingFacePolicyAndRewardModelRunTheLoopAndTheWorkerSwapsToTheNewVersion() throws Exception {
        ModelRuntime.init(1);
        TinyHfModels.Architecture arch = TinyHfModels.Architecture.QWEN2;
        Path policyDir = TinyHfModels.writeTokenizer(TinyHfModels.write(tmp.resolve("policy"), arch, 21),
                arch.config().vocabSize());
        Path rewardDir = TinyHfModels.writeTokenizer(TinyHfModels.writeReward(tmp.resolve("reward"), arch, 22, 0),
                arch.config().vocabSize());

        try (EmbeddedCluster cluster = EmbeddedCluster.builder().start()) {
            CatalogTopics catalog = CatalogTopics.on(cluster.bootstrapServers(), cluster.registryUrl())
                    .partitions(1).replicationFactor((short) 1).registerSchemas(true).create();
            Map<String, Object> common = catalog.settings();

            Map<String, Object> stream = new HashMap<>(common);
            stream.put(RewardStreamConfig.SOURCES, "hf:" + rewardDir);
            stream.put(RewardStreamConfig.STATE_DIR, tmp.resolve("streams").toString());
            stream.put(RewardStreamConfig.BATCH_SIZE, 4);
            stream.put(RewardStreamConfig.REFERENCE_CHECKPOINT, policyDir.toString());

            Map<String, Object> learner = new HashMap<>(common);
            learner.put(LearnerConfig.INIT_CHECKPOINT, policyDir.toString());
            learner.put(LearnerConfig.CHECKPOINT_DIR, tmp.resolve("learner").toString());
            learner.put(LearnerConfig.BATCH_SEQUENCES, 8);
            learner.put(LearnerConfig.PUBLISH_EVERY, 1);
            learner.put(LearnerConfig.THREADS, 1);
            learner.put(PpoConfig.MINIBATCH_SIZE, 4);
            learner.put(PpoConfig.PTX_COEF, 0.0);

            Map<String, Object> worker = new HashMap<>(common);
            worker.put(WorkerConfig.WORKER_ID, "hf-loop-worker");
            worker.put(WorkerConfig.BATCH_MAX_SIZE, 8);
            worker.put(WorkerConfig.MAX_NEW_TOKENS, 8);
            worker.put(WorkerConfig.TEMPERATURE, 0.8);

            RewardStreamComponent scorer = new RewardStreamComponent(stream);
            LearnerComponent trainer = new LearnerComponent(learner, catalog.topics());
            WorkerPoolComponent workers = new WorkerPoolComponent(worker, 1, Optional.of(
                    new WorkerPool.Bootstrap(PolicyLoader.initialCheckpoint(policyDir, 0), 0)));
            try (PromptSender prompts = new PromptSender(catalog.topics(), common)) {
                scorer.start();
                scorer.awaitRunning(Duration.ofMinutes(1));
                trainer.start();
                workers.start();
                Instant deadline = Instant.now().plus(DEADLINE);
                int sent = 0;
                while (workers.slowestVersion() < 1) {
                    assertThat(Instant.now()).as("the worker serves version 1 before the deadline").isBefore(deadline);
                    scorer.check();
                    trainer.check();
                    workers.check();
                    if (sent < 64) {
                        sent += prompts.sendAll(prompts(sent, 4));
                    }
                    Thread.sleep(500);
                }
                assertThat(trainer.version()).isGreaterThanOrEqualTo(1);
                long before = workers.generations();
                prompts.sendAll(prompts(1000, 4));
                await(() -> workers.generations() > before, deadline);
            } finally {
                workers.stop();
                trainer.stop();
                scorer.stop();
            }

            List<Generation> generations = generations(common, catalog);
            assertThat(generations).isNotEmpty();
            assertThat(generations).anySatisfy(g -> assertThat(g.getPolicyVersion()).isGreaterThanOrEqualTo(1));
            for (Generation g : generations) {
                // the chat template's generation prompt ends every prompt; every id fits the tiny vocabulary
                assertThat(g.getPromptTokens()).allSatisfy(id -> assertThat(id).isBetween(0, 127));
                assertThat(g.getSampling().getTemperature()).isEqualTo(0.8f, within(1e-6f));
            }
        }

        LearnerCheckpoint newest = new LearnerCheckpointStore(tmp.resolve("learner")).loadNewest().orElseThrow();
        assertThat(newest.policy().architecture()).isEqualTo(HfPolicy.ARCHITECTURE);
        assertThat(newest.policy().modelFiles()).containsKeys("config.json", "tokenizer.json");
        Path exported = tmp.resolve("exported");
        HfExport.write(newest.policy(), exported, SafetensorsDtype.F32, false);
        int[] ids = {1, 7, 12, 30, 5, 2};
        try (HfPolicy start = HfPolicy.load(policyDir, 0);
             HfPolicy trained = HfPolicy.fromCheckpoint(newest.policy());
             HfCausalLm reloaded = HfCausalLm.load(exported);
             NDManager m = start.manager().newSubManager()) {
            float[] a = start.forward(m.create(ids, new Shape(1, ids.length)), null, false).logits().toFloatArray();
            float[] b = trained.forward(m.create(ids, new Shape(1, ids.length)), null, false).logits().toFloatArray();
            assertThat(b).as("the learner trained the folder's weights").isNotEqualTo(a);
            float[] c = reloaded.logits(m.create(ids, new Shape(1, ids.length))).toFloatArray();
            assertThat(c).as("the exported folder gives the learner's logits").containsExactly(b, within(0f));
        }
        for (String file : List.of("tokenizer.json", "tokenizer_config.json", "generation_config.json")) {
            assertThat(exported.resolve(file)).hasSameBinaryContentAs(policyDir.resolve(file));
        }
    }

    private static List<Prompt> prompts(int from, int n) {
        String[] texts = {"Say something kind.", "Name a colour.", "What is 2+2?", "Tell me a short story."};
        List<Prompt> out = new ArrayList<>();
        for (int i = from; i < from + n; i++) {
            out.add(Prompt.newBuilder().setPromptId("hf-loop-" + i)
                    .setConversation(List.of(new ConversationTurn(Role.USER, texts[i % texts.length])))
                    .setSamplesPerPrompt(2).setSource("test").setMetadata(Map.of()).setCreatedAt(Instant.now())
                    .build());
        }
        return out;
    }

    private static List<Generation> generations(Map<String, Object> common, CatalogTopics catalog) {
        var topic = catalog.topics().generations();
        Map<String, Object> props = new HashMap<>(common);
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "hf-loop-check");
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        List<Generation> out = new ArrayList<>();
        try (KafkaConsumer<String, Generation> consumer = new KafkaConsumer<>(props, topic.keySerde().deserializer(),
                topic.valueSerde().deserializer())) {
            consumer.subscribe(List.of(topic.name()));
            Instant until = Instant.now().plusSeconds(20);
            while (Instant.now().isBefore(until) && out.size() < 16) {
                for (ConsumerRecord<String, Generation> r : consumer.poll(Duration.ofMillis(500))) {
                    out.add(r.value());
                }
            }
        }
        return out;
    }

    private static void await(BooleanSupplier condition, Instant deadline) throws InterruptedException {
        while (!condition.getAsBoolean()) {
            assertThat(Instant.now()).isBefore(deadline);
            Thread.sleep(200);
        }
    }
}
