#!/bin/bash
# Regenerates the expected numbers in this folder: writes each tiny folder with the project's TinyHfModels
# (the same code the tests run), then scores it with the independent PyTorch implementation
# ../shared/tools/torch-baseline/hf_forward.py. Run from the repository root after
# ./mvnw -B -o -q -pl models -am test-compile.
set -euo pipefail
out=models/src/test/resources/hf
tb=${TORCH_BASELINE:-../shared/tools/torch-baseline}
eval "$("$tb/setup")"
./mvnw -B -o -q -pl models dependency:build-classpath -Dmdep.outputFile=/tmp/hf_cp.txt
cp="models/target/classes:$(cat /tmp/hf_cp.txt)"
tmp=$(mktemp -d)
tokens="5,17,3,42,8,23,61,0,11,36,2,50;7,7,19,33,4,58,21,9,14,40,27,1"
prompts="5,17,3,42,8;9,1,60,2,33"
# name arch seed dtype shards
while read -r name arch seed dtype shards; do
  java -cp "$cp" io.streamrlhf.models.hf.TinyHfModels "$tmp/$name" "$arch" "$seed" "$dtype" "$shards" >/dev/null 2>&1
  dir="$tmp/$name"
  sums=$(cd "$dir" && sha256sum * | "$TORCH_PYTHON" -c "import json,sys; print(json.dumps({l.split()[1]: l.split()[0] for l in sys.stdin}))")
  if [ "$arch" = mistral ]; then
    # hf_forward.py has no Mistral; MistralForCausalLM computes what LlamaForCausalLM without biases does, so
    # the same tensors are scored under a Llama config.json.
    cp -r "$dir" "$tmp/$name-as-llama"; dir="$tmp/$name-as-llama"
    "$TORCH_PYTHON" -c "import json,sys; p=sys.argv[1]; c=json.load(open(p)); c.update(architectures=['LlamaForCausalLM'], model_type='llama'); [c.pop(k) for k in ('sliding_window','use_sliding_window')]; json.dump(c, open(p,'w'))" "$dir/config.json"
  fi
  score=$("$TORCH_PYTHON" "$tb/hf_forward.py" --model "$dir" --tokens "$tokens" --json)
  gen=$("$TORCH_PYTHON" "$tb/hf_forward.py" --model "$dir" --tokens "$prompts" --generate 10 --greedy --json)
  "$TORCH_PYTHON" -c "import json,sys; print(json.dumps({'arch':sys.argv[1],'seed':int(sys.argv[2]),'dtype':sys.argv[3],'shards':int(sys.argv[4]),'tokens':sys.argv[5],'score':json.loads(sys.argv[6]),'prompts':sys.argv[7],'generate':json.loads(sys.argv[8]),'sha256':json.loads(sys.argv[9])}, indent=1))" \
    "$arch" "$seed" "$dtype" "$shards" "$tokens" "$score" "$prompts" "$gen" "$sums" > "$out/$name.json"
  echo "$out/$name.json"
done <<'LIST'
gpt2 gpt2 1 f32 1
llama llama 2 f32 1
qwen2 qwen2 3 f32 1
mistral mistral 4 f32 1
qwen2-bf16 qwen2 3 bf16 1
llama-f16-3shards llama 2 f16 3
LIST
rm -rf "$tmp"
