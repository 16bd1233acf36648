# The trainer and the evaluator on GPU nodes: a CUDA PyTorch base plus our package.
#
#   docker build -f docker/trainer.Dockerfile -t leia-trainer .
#   docker run --rm --gpus all --ipc=host -v /data:/data leia-trainer \
#     torchrun --nproc_per_node 8 trainer/main.py --model meta-llama/Llama-2-7b-hf \
#       --shards /data/shards --out /data/run
FROM pytorch/pytorch:2.8.0-cuda12.8-cudnn9-runtime

ENV PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false
WORKDIR /opt/leia
COPY pyproject.toml README.md ./
COPY leia leia
COPY spark_jobs spark_jobs
COPY trainer trainer
COPY data/xcsr-sample data/xcsr-sample
# The same install command as the README's (torch comes with the base image).
RUN pip install --no-cache-dir -e ".[eval]"
CMD ["torchrun", "--nproc_per_node", "1", "trainer/main.py", "--help"]
