//! Renders a `core::schema_form::Form` as HTML inputs bound to a `FormValues` signal, with each
//! field's error sentence beside it. Used for tool arguments and elicitation forms.

use crate::core::schema_form::{Field, FieldError, FieldKind, FieldValue, FormValues};
use leptos::prelude::*;

/// The inputs for `fields`.
#[component]
pub fn FormFields(
    /// The fields to render, in order.
    fields: Vec<Field>,
    /// What the person typed, by field key.
    values: RwSignal<FormValues>,
    /// Problems from the last submit, by field key.
    errors: RwSignal<Vec<FieldError>>,
) -> impl IntoView {
    fields.into_iter().map(|field| view! { <FieldInput field values errors /> }).collect_view()
}

fn text_of(values: &FormValues, key: &str) -> String {
    match values.get(key) {
        Some(FieldValue::Text(t)) => t.clone(),
        Some(FieldValue::Items(rows)) => rows.join("\n"),
        _ => String::new(),
    }
}

#[component]
fn FieldInput(
    /// The field.
    field: Field,
    /// Shared values.
    values: RwSignal<FormValues>,
    /// Shared errors.
    errors: RwSignal<Vec<FieldError>>,
) -> impl IntoView {
    let key = field.key.clone();
    let id = crate::ui::unique_id("field");
    let label = format!("{}{}", field.label(), if field.required { " *" } else { "" });
    let description = field.description.clone();
    let name = field.name.clone();
    let error = {
        let key = key.clone();
        move || errors.with(|e| e.iter().find(|e| e.key == key).map(|e| e.message.clone()))
    };
    let set_text = {
        let key = key.clone();
        move |text: String| {
            values.update(|v| {
                v.insert(key.clone(), FieldValue::Text(text));
            })
        }
    };
    let input = match field.kind {
        FieldKind::Text { format, max_length, .. } => {
            let kind = match format.as_deref() {
                Some("email") => "email",
                Some("uri") => "url",
                Some("date") => "date",
                Some("date-time") => "datetime-local",
                _ => "text",
            };
            let k = key.clone();
            view! {
                <input
                    id=id.clone()
                    type=kind
                    data-testid="form-field"
                    data-field-name=name.clone()
                    maxlength=max_length.map(|m| m.to_string())
                    prop:value=move || values.with(|v| text_of(v, &k))
                    on:input=move |ev| set_text(event_target_value(&ev))
                />
            }
            .into_any()
        }
        FieldKind::Number { integer, .. } => {
            let k = key.clone();
            view! {
                // Text, not type=number: a number input empties itself on partial input such
                // as "3." and would fight the binding; the core checks the number instead.
                <input
                    id=id.clone()
                    type="text"
                    inputmode=if integer { "numeric" } else { "decimal" }
                    data-testid="form-field"
                    data-field-name=name.clone()
                    prop:value=move || values.with(|v| text_of(v, &k))
                    on:input=move |ev| set_text(event_target_value(&ev))
                />
            }
            .into_any()
        }
        FieldKind::Boolean => {
            let k = key.clone();
            let k2 = key.clone();
            view! {
                <input
                    id=id.clone()
                    type="checkbox"
                    data-testid="form-field"
                    data-field-name=name.clone()
                    prop:checked=move || values.with(|v| matches!(v.get(&k), Some(FieldValue::Bool(Some(true)))))
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        values.update(|v| {
                            v.insert(k2.clone(), FieldValue::Bool(Some(on)));
                        });
                    }
                />
            }
            .into_any()
        }
        FieldKind::Choice { options } => {
            let k = key.clone();
            let k2 = key.clone();
            let selected = move || match values.with(|v| v.get(&k).cloned()) {
                Some(FieldValue::Selected(s)) => {
                    s.first().map(|i| i.to_string()).unwrap_or_default()
                }
                _ => String::new(),
            };
            view! {
                <select
                    id=id.clone()
                    data-testid="form-field"
                    data-field-name=name.clone()
                    prop:value=selected
                    on:change=move |ev| {
                        let picked = event_target_value(&ev).parse::<usize>().ok();
                        values.update(|v| {
                            v.insert(k2.clone(), FieldValue::Selected(picked.into_iter().collect()));
                        });
                    }
                >
                    <option value="">"—"</option>
                    {options
                        .into_iter()
                        .enumerate()
                        .map(|(i, o)| view! { <option value=i.to_string()>{o.label}</option> })
                        .collect_view()}
                </select>
            }
            .into_any()
        }
        FieldKind::MultiChoice { options, .. } => {
            let boxes = options
                .into_iter()
                .enumerate()
                .map(|(i, o)| {
                    let k = key.clone();
                    let k2 = key.clone();
                    view! {
                        <label class="mc-form__option">
                            <input
                                type="checkbox"
                                prop:checked=move || values.with(|v| matches!(v.get(&k), Some(FieldValue::Selected(s)) if s.contains(&i)))
                                on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    values.update(|v| {
                                        let mut picked = match v.get(&k2) {
                                            Some(FieldValue::Selected(s)) => s.clone(),
                                            _ => Vec::new(),
                                        };
                                        picked.retain(|p| *p != i);
                                        if on {
                                            picked.push(i);
                                            picked.sort_unstable();
                                        }
                                        v.insert(k2.clone(), FieldValue::Selected(picked));
                                    });
                                }
                            />
                            {o.label}
                        </label>
                    }
                })
                .collect_view();
            view! { <div id=id.clone() data-field-name=name.clone()>{boxes}</div> }.into_any()
        }
        FieldKind::List { .. } => {
            let k = key.clone();
            let k2 = key.clone();
            view! {
                <textarea
                    id=id.clone()
                    rows="3"
                    placeholder="One item per line"
                    data-testid="form-field"
                    data-field-name=name.clone()
                    prop:value=move || values.with(|v| text_of(v, &k))
                    on:input=move |ev| {
                        let rows = event_target_value(&ev).lines().map(str::to_owned).collect();
                        values.update(|v| {
                            v.insert(k2.clone(), FieldValue::Items(rows));
                        });
                    }
                ></textarea>
            }
            .into_any()
        }
        FieldKind::Group { fields } => {
            return view! {
                <fieldset class="mc-form__group">
                    <legend>{label}</legend>
                    {description.map(|d| view! { <p class="mc-form__help">{d}</p> })}
                    <FormFields fields values errors />
                </fieldset>
            }
            .into_any();
        }
        FieldKind::Json => {
            let k = key.clone();
            view! {
                <textarea
                    id=id.clone()
                    rows="5"
                    class="mc-form__json"
                    spellcheck="false"
                    placeholder="JSON"
                    data-testid="form-field"
                    data-field-name=name.clone()
                    prop:value=move || values.with(|v| text_of(v, &k))
                    on:input=move |ev| set_text(event_target_value(&ev))
                ></textarea>
            }
            .into_any()
        }
    };
    view! {
        <div class="mc-form__field">
            <label for=id>{label}</label>
            {input}
            {description.map(|d| view! { <p class="mc-form__help">{d}</p> })}
            {move || error().map(|e| view! { <p class="mc-form__error" role="alert">{e}</p> })}
        </div>
    }
    .into_any()
}
