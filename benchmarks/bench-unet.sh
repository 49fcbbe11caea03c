#!/usr/bin/env bash
# Times one UNet2DModel forward of the demo architecture at batch 1 and 8: the Java engine (JMH,
# cpu backend) and PyTorch (tools/bench_torch.py, same weights, same batch sizes, same thread
# count), then prints both and the ratio Java/PyTorch per batch size.
#
#   benchmarks/bench-unet.sh                 # JMH -wi 3 -i 5 -f 1, 2 threads
#   THREADS=1 benchmarks/bench-unet.sh       # another thread count for both sides
#   CONV=onednn benchmarks/bench-unet.sh     # convolutions on oneDNN through ND4J
#   JMH_ARGS="-wi 5 -i 10" benchmarks/bench-unet.sh
#   PROFILE=1 benchmarks/bench-unet.sh       # also print the per-operation time table
#   TORCH_OPENBLAS=0 benchmarks/bench-unet.sh  # skip the second PyTorch run (see below)
#
# PyTorch runs twice: as installed, and with OpenBLAS preloaded (the libopenblas.so.0 that ships
# in the OpenBLAS jar of benchmarks.jar). Debian's torch calls whatever libblas.so.3 the system
# alternative points at; where that is the netlib reference BLAS its matrix products (linear
# layers, attention) are ~30x slower than OpenBLAS, which makes the installed torch a weak
# baseline. The ratio against the OpenBLAS run is the honest one.
#
# The model is models/demo when it has weights, else the random-init test model of the same
# architecture (sampler/src/test/resources/models/random-demo); MODEL_DIR overrides.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/bin/java-home.sh"
cd "$root"

threads=${THREADS:-2}
conv=${CONV:-java}
batches=${BATCHES:-1,8}
python=${PYTHON:-/usr/bin/python3}
jar=benchmarks/target/benchmarks.jar

if [ -n "${MODEL_DIR:-}" ]; then
  model=$MODEL_DIR
elif [ -f models/demo/diffusion_pytorch_model.safetensors ]; then
  model=models/demo
else
  model=sampler/src/test/resources/models/random-demo
fi

if [ ! -f "$jar" ] || [ -n "$(find sampler/src/main benchmarks/src/main sampler/pom.xml benchmarks/pom.xml -newer "$jar" -print -quit)" ]; then
  echo "bench-unet: building $jar ..." >&2
  ./mvnw -q -B -ntp -DskipTests -DskipFuzz -pl benchmarks -am package >&2
fi

jvm_flags="--enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow --add-modules=jdk.incubator.vector"
out=benchmarks/target/jmh-unet.json
echo "== Java (JMH, cpu backend, conv=$conv, $threads threads, model $model)"
# shellcheck disable=SC2086
"$JAVA_HOME/bin/java" $jvm_flags -jar "$jar" UNetForwardBenchmark \
  ${JMH_ARGS:--wi 3 -i 5 -f 1} -p batch="$batches" -p threads="$threads" -p conv="$conv" -p modelDir="$model" \
  -rf json -rff "$out"

if [ -n "${PROFILE:-}" ]; then
  for b in ${batches//,/ }; do
    # shellcheck disable=SC2086
    "$JAVA_HOME/bin/java" $jvm_flags -cp "$jar" dev.sampler.benchmarks.ProfileUNet "$b" "$threads" "$conv" 20 "$model"
  done
fi

torch_version=$("$python" -c 'import torch; print(torch.__version__)')
blas=$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null || echo unknown)
echo "== PyTorch $torch_version as installed ($threads threads; libblas.so.3 -> $blas)"
torch_out=$("$python" tools/bench_torch.py --model-dir "$model" --batches "$batches" --threads "$threads")
echo "$torch_out"

torch_ob_out=""
if [ "${TORCH_OPENBLAS:-1}" != 0 ]; then
  ob=benchmarks/target/openblas
  if [ ! -f "$ob/libopenblas.so.0" ]; then
    mkdir -p "$ob"
    (cd "$ob" && unzip -o -q -j "$root/$jar" 'org/bytedeco/openblas/linux-x86_64/*.so*' 2>/dev/null) || true
  fi
  if [ -f "$ob/libopenblas.so.0" ]; then
    echo "== PyTorch $torch_version with OpenBLAS preloaded ($threads threads, OPENBLAS_NUM_THREADS=$threads)"
    torch_ob_out=$(LD_LIBRARY_PATH="$root/$ob${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" LD_PRELOAD="$root/$ob/libopenblas.so.0" \
      OPENBLAS_NUM_THREADS="$threads" "$python" tools/bench_torch.py --model-dir "$model" --batches "$batches" \
      --threads "$threads")
    echo "$torch_ob_out"
  else
    echo "== (no libopenblas.so.0 found in $jar; skipping the OpenBLAS run)"
  fi
fi

echo "== Java / PyTorch (mean ms per forward; lower ratio = Java faster)"
JMH_JSON=$out TORCH_OUT=$torch_out TORCH_OB_OUT=$torch_ob_out "$python" - <<'PY'
import json, os, re
java = {}
for r in json.load(open(os.environ["JMH_JSON"])):
    m = r["primaryMetric"]
    java[int(r["params"]["batch"])] = (m["score"], m["scoreError"])
def parse(text):
    out = {}
    for line in text.splitlines():
        m = re.search(r"batch=(\d+) .*mean_ms=([\d.]+)", line)
        if m:
            out[int(m.group(1))] = float(m.group(2))
    return out
torch, torch_ob = parse(os.environ["TORCH_OUT"]), parse(os.environ.get("TORCH_OB_OUT", ""))
nan = float("nan")
print("%-6s %18s %12s %8s %16s %8s" % ("batch", "java ms", "torch ms", "ratio", "torch+openblas", "ratio"))
for b in sorted(java):
    js, je = java[b]
    t, to = torch.get(b), torch_ob.get(b)
    print("%-6d %10.2f ± %5.2f %12.2f %8.3f %16.2f %8.3f" % (b, js, je, t or nan, js / t if t else nan,
                                                            to or nan, js / to if to else nan))
PY
